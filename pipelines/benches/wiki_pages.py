"""Hand-checked Wikipedia pages: real-format wikitext (infoboxes, cite templates, nested templates,
tables, math, galleries, hatnotes, navboxes, categories) and, written by hand, the prose a reader of
the rendered article sees. `curate bench sources` and `tests/test_sources.py` score cleaners on them;
`scripts/make_demo_sources.py` puts them in the demo dump.

The articles are written for this repo (no text is taken from Wikipedia). Conventions of the
expected prose: the body only (no title); paragraphs separated by a blank line; a section heading
is a line of its own without `=`; list items `- item` (numbered lists `1. item`); math as LaTeX
between `$`; `{{convert|12|km|mi}}` is `12 km`; references, tables, galleries, captions, infoboxes,
navboxes, hatnotes and the References / See also / External links sections are not prose.
"""

PAGES = [
    {
        "id": 1001,
        "title": "Harrow Creek Bridge",
        "wikitext": """{{Short description|Stone arch bridge in Norland County}}
{{Use dmy dates|date=March 2024}}
{{Infobox bridge
| name        = Harrow Creek Bridge
| image       = Harrow Creek Bridge 2019.jpg
| caption     = The bridge seen from the north bank
| carries     = {{nowrap|County Road 12}}
| crosses     = Harrow Creek
| locale      = [[Marrowby]], [[Norland County]]
| design      = [[Arch bridge|Stone arch]]
| length      = {{convert|86|m|ft|abbr=on}}
| spans       = 5
| opened      = {{start date|1862|6|14|df=y}}
| coordinates = {{coord|52.11|N|1.42|W|display=inline,title}}
}}
The '''Harrow Creek Bridge''' is a five-span [[arch bridge|stone arch bridge]] that carries County Road 12 over [[Harrow Creek]] near the village of [[Marrowby]].<ref name="survey">{{cite web |title=Bridges of Norland |url=https://example.org/bridges |publisher=Norland Heritage Trust |access-date=2 March 2024}}</ref> It was completed in 1862 and is the oldest road bridge still in daily use in the county.<ref>{{cite book |last=Aldous |first=Mary |title=Roads and Rivers |year=1998 |page=41}}</ref>

== History ==
Before the bridge was built, travellers crossed the creek at a ford that flooded every spring. A local mill owner, [[Thomas Penhale]], raised money for a crossing in 1858, and the county engineer drew up plans for a bridge of {{convert|86|m|ft}} with five arches.<ref name="survey" /> Work began in 1859 and took three years, because the river bed was softer than expected.{{citation needed|date=May 2021}}

The bridge was widened in 1931 to take motor traffic. During the [[Great Flood of 1947|flood of 1947]] two piers were damaged, and the central arch was rebuilt in 1949 using stone from the original quarry.

=== Restoration ===
A restoration in 2016 replaced the parapets and cleaned the stonework.<ref>{{Cite news |title=Old bridge reopens |work=Norland Gazette |date=9 September 2016}}</ref>

== Design ==
[[File:Harrow Creek Bridge arches.jpg|thumb|left|upright=1.2|The five arches in 2019, seen from [[Mill Lane]]]]
Each arch spans about {{convert|15|m|ft}}, and the piers rest on timber piles driven into the clay. The spans are:

{| class="wikitable"
|+ Spans of the bridge
! Arch !! Span !! Rebuilt
|-
| 1 || 14.8 m || —
|-
| 2 || 15.2 m || 1949
|}

The stone is a local sandstone that weathers to a pale grey.

== Gallery ==
<gallery>
Harrow Creek Bridge 1900.jpg|The bridge in about 1900
Harrow Creek Bridge flood.jpg|Damage after the 1947 flood
</gallery>

== See also ==
* [[List of bridges in Norland County]]

== References ==
{{Reflist}}

== External links ==
* [https://example.org/harrow Harrow Creek Bridge] at the Norland Heritage Trust
{{Commons category|Harrow Creek Bridge}}
{{Norland County bridges}}

[[Category:Bridges completed in 1862]]
[[Category:Stone arch bridges]]
[[de:Harrow-Creek-Brücke]]
""",
        "expected": """The Harrow Creek Bridge is a five-span stone arch bridge that carries County Road 12 over Harrow Creek near the village of Marrowby. It was completed in 1862 and is the oldest road bridge still in daily use in the county.

History

Before the bridge was built, travellers crossed the creek at a ford that flooded every spring. A local mill owner, Thomas Penhale, raised money for a crossing in 1858, and the county engineer drew up plans for a bridge of 86 m with five arches. Work began in 1859 and took three years, because the river bed was softer than expected.

The bridge was widened in 1931 to take motor traffic. During the flood of 1947 two piers were damaged, and the central arch was rebuilt in 1949 using stone from the original quarry.

Restoration

A restoration in 2016 replaced the parapets and cleaned the stonework.

Design

Each arch spans about 15 m, and the piers rest on timber piles driven into the clay. The spans are:

The stone is a local sandstone that weathers to a pale grey.""",
    },
    {
        "id": 1002,
        "title": "Harmonic mean",
        "wikitext": """{{Short description|Type of average}}
{{about|the average|the musical interval|Harmonic (music)}}
In [[mathematics]], the '''harmonic mean''' is one of several kinds of [[average]]. For positive numbers <math>x_1, \\ldots, x_n</math> it is defined as

:<math>H = \\frac{n}{\\frac{1}{x_1} + \\cdots + \\frac{1}{x_n}}.</math>

It is the [[reciprocal (mathematics)|reciprocal]] of the [[arithmetic mean]] of the reciprocals.<ref>{{cite book |last=Ferris |first=J. |title=Means and Inequalities |publisher=Hollow Press |year=2004 |isbn=978-0-00-000000-2}}</ref>

== Properties ==
For two numbers the formula simplifies to <math>H = 2ab/(a+b)</math>. The harmonic mean is never larger than the [[geometric mean]], which is never larger than the arithmetic mean:
* <math>H \\le G \\le A</math>, with equality only when all the numbers are equal;
* it is dominated by the smallest values, so a single value close to zero pulls it towards zero.

== Examples ==
If a car travels a distance at {{convert|60|km/h|mph}} and returns at {{convert|40|km/h|mph}}, its average speed is the harmonic mean of the two speeds, 48 km/h, not their arithmetic mean.<ref group="note">The time spent at each speed differs, so the speeds do not count equally.</ref>

{| class="wikitable"
! Numbers !! Arithmetic !! Harmonic
|-
| 1, 4 || 2.5 || 1.6
|}

== See also ==
* [[Pythagorean means]]
* [[Weighted harmonic mean]]

== Notes ==
{{reflist|group=note}}

== References ==
<references />

{{Authority control}}
[[Category:Means]]
[[fr:Moyenne harmonique]]
[[es:Media armónica]]
""",
        "expected": """In mathematics, the harmonic mean is one of several kinds of average. For positive numbers $x_1, \\ldots, x_n$ it is defined as

$H = \\frac{n}{\\frac{1}{x_1} + \\cdots + \\frac{1}{x_n}}.$

It is the reciprocal of the arithmetic mean of the reciprocals.

Properties

For two numbers the formula simplifies to $H = 2ab/(a+b)$. The harmonic mean is never larger than the geometric mean, which is never larger than the arithmetic mean:

- $H \\le G \\le A$, with equality only when all the numbers are equal;
- it is dominated by the smallest values, so a single value close to zero pulls it towards zero.

Examples

If a car travels a distance at 60 km/h and returns at 40 km/h, its average speed is the harmonic mean of the two speeds, 48 km/h, not their arithmetic mean.""",
    },
    {
        "id": 1003,
        "title": "Otto Brenner (botanist)",
        "wikitext": """{{Short description|German botanist (1871–1939)}}
{{For|the trade unionist|Otto Brenner (trade unionist)}}
{{Infobox scientist
| name         = Otto Brenner
| image        = Otto Brenner 1910.jpg
| birth_date   = {{birth date|1871|4|2|df=y}}
| birth_place  = [[Kassel]], [[Electorate of Hesse|Hesse]]
| death_date   = {{death date and age|1939|11|20|1871|4|2|df=y}}
| fields       = [[Botany]], [[mycology]]
| known_for    = Studies of {{lang|la|Boletus}} fungi
| awards       = {{ubl|Linnean Medal (1930)|{{nowrap|Order of Merit}}}}
}}
'''Otto Brenner''' ({{IPA-de|ˈɔto ˈbʁɛnɐ|lang}}; 2 April 1871 – 20 November 1939) was a German [[botanist]] who studied [[fungi]] of the [[Black Forest]]. He described more than forty species, among them {{lang|la|''Boletus silvanus''}}.<ref>{{Cite journal |last=Weber |first=K. |title=Otto Brenner |journal=Mycological Review |volume=12 |year=1940 |pages=1–9}}</ref>

== Life ==
Brenner was born in [[Kassel]] and studied at the [[University of Göttingen]], where he took his doctorate in 1896 with a thesis on {{lang|de|Pilze des Waldbodens}} ("fungi of the forest floor"). From 1902 he taught at the forestry school in [[Freiburg im Breisgau|Freiburg]].<ref name=w>Weber 1940, p. 3.</ref>

He married Clara Lenz in 1905; they had two daughters. He retired in 1936 and died in Freiburg three years later.<ref name=w/>

== Works ==
Among his books are:
# ''Die Röhrlinge Badens'' (1908)
# ''Führer durch die Pilzflora'' (1921), a field guide
# ''Pilze und Bäume'' (1933)

== Legacy ==
The genus ''[[Brenneria (fungus)|Brenneria]]'' was named in his honour in 1952.{{sfn|Weber|1940|p=8}}

== References ==
{{reflist}}

== Further reading ==
* {{cite book |last=Hahn |first=R. |title=German Mycologists |year=1988}}

{{Authority control}}
{{DEFAULTSORT:Brenner, Otto}}
[[Category:1871 births]]
[[Category:1939 deaths]]
[[Category:German mycologists]]
""",
        "expected": """Otto Brenner (2 April 1871 – 20 November 1939) was a German botanist who studied fungi of the Black Forest. He described more than forty species, among them Boletus silvanus.

Life

Brenner was born in Kassel and studied at the University of Göttingen, where he took his doctorate in 1896 with a thesis on Pilze des Waldbodens ("fungi of the forest floor"). From 1902 he taught at the forestry school in Freiburg.

He married Clara Lenz in 1905; they had two daughters. He retired in 1936 and died in Freiburg three years later.

Works

Among his books are:

1. Die Röhrlinge Badens (1908)
2. Führer durch die Pilzflora (1921), a field guide
3. Pilze und Bäume (1933)

Legacy

The genus Brenneria was named in his honour in 1952.""",
    },
    {
        "id": 1004,
        "title": "Kestrel-class ferry",
        "wikitext": """{{Short description|Class of passenger ferries}}
{{Infobox ship class overview
| Name           = Kestrel class
| Builders       = [[Dunmore Shipyard]]
| Operators      = {{plainlist|
* Norland Ferries
* Bay Link (2004–2010)
}}
| Built range    = 1988–1992
| Total ships built = 4
}}
{{Infobox ship characteristics
| Ship length = {{convert|74|m|ft|abbr=on}}
| Ship speed  = {{convert|16|kn|km/h}}
}}
The '''Kestrel class''' is a class of four [[ferry|passenger and car ferries]] built by [[Dunmore Shipyard]] between 1988 and 1992 for routes across the [[Norland Sound]].<ref>{{cite web|url=https://example.org/ferries|title=Fleet list|website=Norland Ferries|archive-url=https://web.archive.org/web/2010/https://example.org/ferries|archive-date=4 May 2010}}</ref> Each ship carries up to 600 passengers and 90 cars.

== Design ==
The ships are {{convert|74|m|ft}} long and have a bow door and a stern door, so that vehicles drive straight through. Two diesel engines give a service speed of {{convert|16|kn|km/h}}.<!-- speed from the 1990 brochure -->

== Ships ==
{| class="wikitable sortable"
|-
! Name !! Launched !! Status
|-
| ''Kestrel'' || 1988 || In service
|-
| ''Merlin'' || 1989 || Sold 2010
|-
| ''Hobby'' || 1991 || {{sort|Scrapped|Scrapped in 2019}}
|-
| ''Lanner'' || 1992 || In service
|}

== Service ==
''Kestrel'' and ''Lanner'' still sail between Port Aster and Holm. ''Merlin'' was sold to a Greek operator in 2010 and renamed ''Agia Eleni''.<ref name="sale">{{cite news |title=Ferry sold abroad |newspaper=Coast Times |date=2010}}</ref> ''Hobby'' was laid up in 2015 and [[ship breaking|broken up]] in 2019.<ref name="sale"/>

== References ==
{{Reflist|30em}}

{{Norland Ferries}}
[[Category:Ferry classes]]
[[Category:Ships built in Norland]]
""",
        "expected": """The Kestrel class is a class of four passenger and car ferries built by Dunmore Shipyard between 1988 and 1992 for routes across the Norland Sound. Each ship carries up to 600 passengers and 90 cars.

Design

The ships are 74 m long and have a bow door and a stern door, so that vehicles drive straight through. Two diesel engines give a service speed of 16 kn.

Service

Kestrel and Lanner still sail between Port Aster and Holm. Merlin was sold to a Greek operator in 2010 and renamed Agia Eleni. Hobby was laid up in 2015 and broken up in 2019.""",
    },
    {
        "id": 1005,
        "title": "Sourdough starter",
        "wikitext": """{{Short description|Fermented mixture of flour and water}}
{{Main|Sourdough}}
A '''sourdough starter''' (also '''levain''', from {{lang-fr|levain}}) is a mixture of [[flour]] and [[water]] in which wild [[yeast]] and [[lactic acid bacteria]] live together.<ref>{{cite book |title=The Bread Book |last=Oduya |first=S. |year=2011}}</ref> Bakers use it to raise bread instead of commercial yeast.

== Making a starter ==
A starter is made by mixing equal weights of flour and water and leaving it at room temperature. It is then ''fed'' every day:
# discard about half of the mixture;
# add fresh flour and water;
# stir and cover loosely.
After five to ten days the starter doubles in size within a few hours of a feeding and is ready to use.

== Microbiology ==
The yeasts produce [[carbon dioxide]], which raises the dough, while the bacteria produce [[lactic acid|lactic]] and [[acetic acid]]s, which give the bread its sour taste.<ref name="gaenzle">{{cite journal |last=Gänzle |first=M. |title=Sourdough microbiota |journal=Food Microbiology |year=2014 |doi=10.1016/j.example}}</ref> A mature starter usually holds about 100 bacteria for every yeast cell.<ref name="gaenzle" />

Common organisms include:
* ''[[Fructilactobacillus sanfranciscensis]]''
* ''[[Kazachstania humilis]]'', a yeast
* ''[[Saccharomyces cerevisiae]]''

== Storage ==
A starter can be kept in a refrigerator and fed once a week. Dried starter keeps for months.&nbsp;It can be revived by soaking it in water.

== See also ==
{{Portal|Food}}
* [[Amish friendship bread]]
* [[Poolish]]

== References ==
{{reflist}}
{{Breads}}
[[Category:Sourdough breads]]
[[Category:Fermented foods]]
""",
        "expected": """A sourdough starter (also levain, from French: levain) is a mixture of flour and water in which wild yeast and lactic acid bacteria live together. Bakers use it to raise bread instead of commercial yeast.

Making a starter

A starter is made by mixing equal weights of flour and water and leaving it at room temperature. It is then fed every day:

1. discard about half of the mixture;
2. add fresh flour and water;
3. stir and cover loosely.

After five to ten days the starter doubles in size within a few hours of a feeding and is ready to use.

Microbiology

The yeasts produce carbon dioxide, which raises the dough, while the bacteria produce lactic and acetic acids, which give the bread its sour taste. A mature starter usually holds about 100 bacteria for every yeast cell.

Common organisms include:

- Fructilactobacillus sanfranciscensis
- Kazachstania humilis, a yeast
- Saccharomyces cerevisiae

Storage

A starter can be kept in a refrigerator and fed once a week. Dried starter keeps for months. It can be revived by soaking it in water.""",
    },
    {
        "id": 1006,
        "title": "Linden Street station",
        "wikitext": """{{Short description|Railway station in Port Aster}}
{{Infobox station
| name     = Linden Street
| type     = [[Commuter rail]] station
| address  = Linden Street, [[Port Aster]]
| line     = {{rail color box|system=Aster Rail|line=Coast}}
| platforms = 2 [[side platform]]s
| opened   = 1 May 1887
| rebuilt  = 1964, 2012
| passengers = {{increase}} 1.2 million
| pass_year = 2022
}}
'''Linden Street''' is a railway station on the [[Coast Line (Aster Rail)|Coast Line]] in [[Port Aster]]. It is served by trains every fifteen minutes during the day.<ref>{{Cite web |title=Timetable |url=https://example.org/timetable |publisher=Aster Rail}}</ref>

== History ==
The station opened on 1 May 1887 with a wooden building and a single platform. A second platform was added in 1911, when the line was [[double track|doubled]]. The present building dates from 1964; it replaced the original one, which had burned down in 1962.<ref name=hist>{{cite book |title=Aster Rail: A History |year=2001 |pages=55–57}}</ref>

In 2012 the platforms were lengthened to take eight-car trains and lifts were installed.<ref name=hist/>

== Services ==
{{col-begin}}
{{col-2}}
* Northbound: to [[Holm railway station|Holm]]
{{col-2}}
* Southbound: to [[Port Aster Central]]
{{col-end}}

{{s-rail|title=Aster Rail}}
{{s-line|system=Aster Rail|line=Coast|previous=Harbour Road|next=Elm Park}}
{{s-end}}

== References ==
{{reflist}}

{{coord|51.9|N|1.8|W|display=title}}
[[Category:Railway stations opened in 1887]]
""",
        "expected": """Linden Street is a railway station on the Coast Line in Port Aster. It is served by trains every fifteen minutes during the day.

History

The station opened on 1 May 1887 with a wooden building and a single platform. A second platform was added in 1911, when the line was doubled. The present building dates from 1964; it replaced the original one, which had burned down in 1962.

In 2012 the platforms were lengthened to take eight-car trains and lifts were installed.

Services

- Northbound: to Holm

- Southbound: to Port Aster Central""",
    },
    {
        "id": 1007,
        "title": "Marrowby",
        "wikitext": """{{Short description|Village in Norland County}}
{{Use British English|date=January 2023}}
{{Infobox settlement
| name            = Marrowby
| settlement_type = Village
| image_skyline   = Marrowby church.jpg
| image_caption   = St Anne's Church
| coordinates     = {{coord|52.12|-1.41|format=dms|display=inline,title}}
| population_total = 1,204
| population_as_of = 2021
| population_footnotes = <ref name="census">{{cite web |title=Census 2021 |url=https://example.org/census}}</ref>
| area_total_km2  = {{#expr: 4.1 + 0.2}}
| elevation_m     = 38
}}
'''Marrowby''' is a village and [[civil parish]] in [[Norland County]], on the south bank of [[Harrow Creek]]. At the 2021 census it had a population of 1,204.<ref name="census" />

== Geography ==
The village lies {{convert|6|mi|km}} east of [[Port Aster]] on a low ridge above the creek. The parish covers about {{convert|4.3|km2|sqmi}} of farmland and woods, including [[Marrowby Wood]], an ancient woodland.

== History ==
Marrowby is recorded in 1086 as ''Merewebi''. The name is thought to come from {{lang|non|marr}} ("marsh") and {{lang|non|bý}} ("farm").<ref>{{cite book |last=Ekwall |title=Place-Names |year=1960}}</ref> The church of St Anne was built in the 13th century and restored in 1871.

=== Population ===
{| class="wikitable" style="text-align:right"
|+ Population of Marrowby
|-
! 1801 !! 1901 !! 2001 !! 2021
|-
| 310 || 498 || 1,019 || 1,204
|}

== Notable people ==
* [[Thomas Penhale]] (1801–1874), mill owner
* [[Ada Crowe]] (born 1950), novelist<ref>{{cite news |title=Ada Crowe at 70 |work=Gazette |year=2020}}</ref>

== Gallery ==
<gallery mode="packed">
Marrowby green.jpg|The village green
Marrowby mill.jpg|Penhale's mill
</gallery>

== References ==
{{Reflist}}

== External links ==
* {{Official website|https://example.org/marrowby}}
{{Norland County}}
[[Category:Villages in Norland County]]
""",
        "expected": """Marrowby is a village and civil parish in Norland County, on the south bank of Harrow Creek. At the 2021 census it had a population of 1,204.

Geography

The village lies 6 mi east of Port Aster on a low ridge above the creek. The parish covers about 4.3 km2 of farmland and woods, including Marrowby Wood, an ancient woodland.

History

Marrowby is recorded in 1086 as Merewebi. The name is thought to come from marr ("marsh") and bý ("farm"). The church of St Anne was built in the 13th century and restored in 1871.

Notable people

- Thomas Penhale (1801–1874), mill owner
- Ada Crowe (born 1950), novelist""",
    },
    {
        "id": 1008,
        "title": "Binary search",
        "wikitext": """{{Short description|Search algorithm on sorted arrays}}
{{Infobox algorithm
| class = [[Search algorithm]]
| data = [[Array (data structure)|Array]]
| time = <math>O(\\log n)</math>
| best-time = <math>O(1)</math>
| space = <math>O(1)</math>
}}
'''Binary search''' is an [[algorithm]] that finds the position of a target value in a [[sorted array]].<ref>{{cite book |last=Knuth |first=D. |title=The Art of Computer Programming |volume=3 |year=1998 |chapter=6.2.1}}</ref> It compares the target with the middle element; if they are unequal, the half in which the target cannot lie is discarded, and the search continues on the other half.

== Algorithm ==
Given an array <math>A</math> of <math>n</math> elements sorted in ascending order and a target <math>T</math>:
# Set <math>L</math> to <math>0</math> and <math>R</math> to <math>n-1</math>.
# If <math>L > R</math>, the search ends without a match.
# Set <math>m</math> to the floor of <math>(L+R)/2</math>.
# Compare <math>A_m</math> with <math>T</math> and move <math>L</math> or <math>R</math> past <math>m</math>.

== Performance ==
In the worst case binary search makes <math>\\lfloor \\log_2 n \\rfloor + 1</math> comparisons.{{efn|The worst case is reached when the target is not in the array.}} For an array of a million elements that is at most 20 comparisons.

[[File:Binary Search Depiction.svg|thumb|upright=1.5|Searching for 7 in a sorted array]]

== Notes ==
{{notelist}}

== References ==
{{Reflist}}

{{Data structures and algorithms}}
[[Category:Search algorithms]]
[[ja:二分探索]]
""",
        "expected": """Binary search is an algorithm that finds the position of a target value in a sorted array. It compares the target with the middle element; if they are unequal, the half in which the target cannot lie is discarded, and the search continues on the other half.

Algorithm

Given an array $A$ of $n$ elements sorted in ascending order and a target $T$:

1. Set $L$ to $0$ and $R$ to $n-1$.
2. If $L > R$, the search ends without a match.
3. Set $m$ to the floor of $(L+R)/2$.
4. Compare $A_m$ with $T$ and move $L$ or $R$ past $m$.

Performance

In the worst case binary search makes $\\lfloor \\log_2 n \\rfloor + 1$ comparisons. For an array of a million elements that is at most 20 comparisons.""",
    },
    {
        "id": 1009,
        "title": "The Lantern Keepers",
        "wikitext": """{{Short description|1974 novel by Ada Crowe}}
{{italic title}}
{{Infobox book
| name          = The Lantern Keepers
| author        = [[Ada Crowe]]
| country       = United Kingdom
| language      = English
| genre         = [[Historical novel]]
| publisher     = Greyfield
| pub_date      = 1974
| pages         = 312
| isbn          = <!-- none: published before ISBNs -->
}}
'''''The Lantern Keepers''''' is a 1974 [[historical novel]] by [[Ada Crowe]]. Set on a lighthouse island in the 1880s, it follows the family of a keeper through one winter.<ref name="rev">{{cite news |last=Marsh |first=P. |title=Light in the dark |work=The Review |date=3 May 1974}}</ref>

== Plot ==
{{Plot|date=June 2022}}
Jonah Reed takes over the light on Scarra Island after the old keeper drowns. His wife Hester and their son Will join him in October. A storm cuts the island off for six weeks, and the family must ration oil to keep the lamp burning.

== Reception ==
The novel was praised for its descriptions of the sea. One reviewer wrote:
{{quote|text=Crowe makes the lamp itself the main character: everything in the book turns towards its light.|author=Peter Marsh|source=''The Review'', 1974}}
It won the [[Greyfield Prize]] in 1975.<ref>{{cite web |title=Past winners |url=https://example.org/prize}}</ref>

== Adaptations ==
A radio version was broadcast in 1981, with [[Juliet Hale]] as Hester.

== References ==
{{reflist}}
{{Ada Crowe}}
[[Category:1974 British novels]]
""",
        "expected": """The Lantern Keepers is a 1974 historical novel by Ada Crowe. Set on a lighthouse island in the 1880s, it follows the family of a keeper through one winter.

Plot

Jonah Reed takes over the light on Scarra Island after the old keeper drowns. His wife Hester and their son Will join him in October. A storm cuts the island off for six weeks, and the family must ration oil to keep the lamp burning.

Reception

The novel was praised for its descriptions of the sea. One reviewer wrote:

Crowe makes the lamp itself the main character: everything in the book turns towards its light.

It won the Greyfield Prize in 1975.

Adaptations

A radio version was broadcast in 1981, with Juliet Hale as Hester.""",
    },
    {
        "id": 1010,
        "title": "Norland County Museum",
        "wikitext": """{{Short description|Museum in Port Aster}}
{{Infobox museum
| name = Norland County Museum
| established = {{Start date|1905}}
| location = Castle Street, [[Port Aster]]
| type = [[Local history]]
| visitors = 84,000 ({{as of|2019|lc=y}})
| website = {{URL|example.org/museum}}
}}
The '''Norland County Museum''' is a [[local history]] museum in [[Port Aster]]. It was founded in 1905 and moved to the former corn exchange on Castle Street in 1953.<ref>{{cite web|title=About us|url=https://example.org/museum/about}}</ref> {{As of|2019}}, it had about 84,000 visitors a year.

== Collections ==
The collections cover the county from the [[Bronze Age]] to the present:
* archaeology, including the ''Holm hoard'' of 212 Roman coins;
* a gallery of ship models and [[figurehead]]s from the port;
* the papers of the Penhale family.
<div class="thumb tright"><div class="thumbinner">[[File:Holm hoard.jpg|200px]]<div class="thumbcaption">Coins of the Holm hoard</div></div></div>

The museum also holds about 30,000 photographs, many of them taken by the studio of [[Edwin Hale]] between 1880 and 1930.<ref>{{Cite book |title=Hale's Port Aster |year=1995}}</ref>

== Building ==
The corn exchange was built in 1856 to designs by [[George Aldous]]. It is a [[listed building|Grade II listed building]].

{{clear}}
== References ==
{{Reflist}}

{{Museums in Norland County}}
[[Category:Museums established in 1905]]
""",
        "expected": """The Norland County Museum is a local history museum in Port Aster. It was founded in 1905 and moved to the former corn exchange on Castle Street in 1953. As of 2019, it had about 84,000 visitors a year.

Collections

The collections cover the county from the Bronze Age to the present:

- archaeology, including the Holm hoard of 212 Roman coins;
- a gallery of ship models and figureheads from the port;
- the papers of the Penhale family.

Coins of the Holm hoard

The museum also holds about 30,000 photographs, many of them taken by the studio of Edwin Hale between 1880 and 1930.

Building

The corn exchange was built in 1856 to designs by George Aldous. It is a Grade II listed building.""",
    },
    {
        "id": 1011,
        "title": "Tsukimi Hill",
        "wikitext": """{{Short description|Hill in Aster Prefecture}}
{{Infobox mountain
| name = Tsukimi Hill
| native_name = {{nobold|{{lang|ja|月見丘}}}}
| elevation_m = 212
| range = {{ubl|Aster Hills|{{small|(eastern group)}}}}
}}
{{nihongo|'''Tsukimi Hill'''|月見丘|Tsukimi-oka}} is a hill of {{convert|212|m|ft}} in the east of [[Aster Prefecture]]. Its name means "moon-viewing hill", and the ''Tsukimi'''s autumn festival has been held on the summit since the 17th century.<ref>{{cite web |title=Tsukimi festival |url=https://example.org/tsukimi}}

== Geography ==
The hill stands between two rivers, about {{convert|10|to|12|km|mi}} from the coast. Its slopes are covered in [[Cryptomeria|cedar]] and [[bamboo]];<br />the summit is bare rock. About {{frac|1|2}} of the hill is a nature reserve of 1.4 km<sup>2</sup>.

{{Multiple image
| image1 = Tsukimi summit.jpg | caption1 = The summit
| image2 = Tsukimi cedars.jpg | caption2 = Cedars on the north slope
}}

== Festival ==
During the festival, held on the night of the full moon in September, visitors climb the hill with lanterns.{{Cquote|We climb so that the moon can see us.}} Offerings of rice dumplings are placed on a stone altar at the [[Tsukimi Hill Shrine|shrine]].

== See also ==
* [[Tsukimi]]
[[Category:Hills of Aster Prefecture]]
""",
        "expected": """Tsukimi Hill (月見丘, Tsukimi-oka) is a hill of 212 m in the east of Aster Prefecture. Its name means "moon-viewing hill", and the Tsukimi's autumn festival has been held on the summit since the 17th century.

Geography

The hill stands between two rivers, about 10 to 12 km from the coast. Its slopes are covered in cedar and bamboo;
the summit is bare rock. About 1/2 of the hill is a nature reserve of 1.4 km2.

Festival

During the festival, held on the night of the full moon in September, visitors climb the hill with lanterns.

We climb so that the moon can see us.

Offerings of rice dumplings are placed on a stone altar at the shrine.""",
    },
    {
        "id": 1012,
        "title": "Greyfield Prize",
        "wikitext": """{{Short description|British literary award}}
{{Infobox award
| name = Greyfield Prize
| awarded_for = Best novel by a British author
| presenter = Greyfield (publisher)
| year = 1961
| reward = £2,000 ({{Inflation|UK|2000|1961|fmt=eq}})
}}
The '''Greyfield Prize''' is a British literary award given each year since 1961 to a novel published by a British author in the previous year.<ref name="about">[https://example.org/prize About the prize]</ref> The winner is chosen by a panel of five judges, and the award is presented in [[London]] in November.

Until 1990 the prize was open only to first novels; since then any novel may be entered.<ref>{{harvnb|Marsh|1995|p=12}}</ref> The rules are set out at [https://example.org/rules the prize website].

== Winners ==
{{See also|List of Greyfield Prize winners}}
{| class="wikitable"
|-
! Year !! Author !! Novel
|-
| 1975 || [[Ada Crowe]] || ''[[The Lantern Keepers]]''
|-
| 1976 || {{sortname|Ruth|Calder}} || ''Salt Roads''
|}

Notable winners include:
* [[Ada Crowe]] for ''The Lantern Keepers'' (1975)
* Ruth Calder for ''Salt Roads'' (1976)
*: her only novel
* ''Tom Weir'' (1988), who won again in 1994

== Controversy ==
In 1983 two judges resigned<ref>{{cite news |title=Judges quit |date=1983}}</ref> after the panel chose a novel that one of them had edited. Since 1984, judges must declare any link to the books entered.

== References ==
{{reflist}}
{{Portal bar|Literature}}
[[Category:British literary awards]]
[[Category:Awards established in 1961]]
""",
        "expected": """The Greyfield Prize is a British literary award given each year since 1961 to a novel published by a British author in the previous year. The winner is chosen by a panel of five judges, and the award is presented in London in November.

Until 1990 the prize was open only to first novels; since then any novel may be entered. The rules are set out at the prize website.

Winners

Notable winners include:

- Ada Crowe for The Lantern Keepers (1975)
- Ruth Calder for Salt Roads (1976)
  her only novel
- Tom Weir (1988), who won again in 1994

Controversy

In 1983 two judges resigned after the panel chose a novel that one of them had edited. Since 1984, judges must declare any link to the books entered.""",
    },
]

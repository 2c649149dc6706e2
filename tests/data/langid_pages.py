"""Multilingual page texts written for the language-ID accuracy test: (language, text)."""

PAGES = [
    ("en", "The city council voted on Tuesday to extend the opening hours of the public library. "
           "Residents had asked for evening access for years, especially students who work during the day.\n"
           "The new schedule starts next month and will be reviewed after six months."),
    ("en", "To make the sauce, melt the butter over a low heat and stir in the flour until it smells nutty. "
           "Add the warm milk a little at a time, whisking constantly so that no lumps form. "
           "Season with salt, pepper and a pinch of nutmeg before serving."),
    ("en", "Our hiking guide covers the northern trail, which climbs steadily through pine forest before "
           "opening onto a wide ridge. Bring plenty of water, because there are no springs after the second "
           "bridge, and check the weather forecast before you set out."),
    ("de", "Der Stadtrat hat am Dienstag beschlossen, die Öffnungszeiten der Stadtbibliothek zu verlängern. "
           "Viele Bürgerinnen und Bürger hatten sich seit Jahren einen Zugang am Abend gewünscht.\n"
           "Die neuen Zeiten gelten ab dem kommenden Monat und werden nach einem halben Jahr überprüft."),
    ("de", "Für die Soße die Butter bei schwacher Hitze schmelzen und das Mehl einrühren, bis es leicht "
           "nussig riecht. Dann die warme Milch nach und nach dazugießen und dabei ständig rühren, damit "
           "keine Klümpchen entstehen. Mit Salz, Pfeffer und Muskat abschmecken."),
    ("de", "Die Wanderung beginnt am Parkplatz hinter dem Bahnhof und führt durch einen dichten Fichtenwald "
           "hinauf zum Aussichtspunkt. Nehmen Sie ausreichend Wasser mit, denn unterwegs gibt es keine Hütte, "
           "und prüfen Sie vorher den Wetterbericht."),
    ("fr", "Le conseil municipal a voté mardi la prolongation des horaires d'ouverture de la bibliothèque. "
           "Les habitants réclamaient depuis longtemps un accès en soirée, en particulier les étudiants qui "
           "travaillent la journée.\nLe nouvel horaire entrera en vigueur le mois prochain."),
    ("fr", "Pour préparer la sauce, faites fondre le beurre à feu doux puis ajoutez la farine en remuant "
           "jusqu'à ce qu'elle dégage une odeur de noisette. Versez ensuite le lait chaud petit à petit, sans "
           "cesser de fouetter, et assaisonnez avec du sel, du poivre et de la muscade."),
    ("fr", "Ce sentier de randonnée traverse une forêt de pins avant de déboucher sur une large crête d'où "
           "l'on aperçoit le lac. Emportez suffisamment d'eau, car il n'y a aucune source après le deuxième "
           "pont, et consultez la météo avant de partir."),
    ("es", "El ayuntamiento aprobó el martes ampliar el horario de apertura de la biblioteca municipal. "
           "Los vecinos llevaban años pidiendo poder acudir por la tarde, sobre todo los estudiantes que "
           "trabajan durante el día.\nEl nuevo horario comenzará el próximo mes."),
    ("es", "Para preparar la salsa, derrite la mantequilla a fuego lento y añade la harina sin dejar de "
           "remover hasta que huela a avellana. Después incorpora la leche caliente poco a poco, batiendo "
           "para que no se formen grumos, y sazona con sal, pimienta y nuez moscada."),
    ("es", "La ruta de senderismo sube por un bosque de pinos y termina en una cresta desde la que se ve "
           "todo el valle. Lleva suficiente agua, porque no hay fuentes después del segundo puente, y "
           "consulta el pronóstico del tiempo antes de salir."),
    ("it", "Il consiglio comunale ha approvato martedì l'estensione degli orari di apertura della "
           "biblioteca civica. I cittadini chiedevano da anni di poterla frequentare la sera, soprattutto "
           "gli studenti che lavorano durante il giorno.\nIl nuovo orario partirà il mese prossimo."),
    ("it", "Per preparare la salsa, sciogliete il burro a fuoco basso e aggiungete la farina mescolando "
           "finché non profuma di nocciola. Versate poi il latte caldo un po' alla volta, continuando a "
           "mescolare con la frusta, e regolate di sale, pepe e noce moscata."),
    ("it", "Il sentiero attraversa un bosco di pini e sale fino a una cresta panoramica da cui si vede "
           "tutta la valle. Portate con voi abbastanza acqua, perché dopo il secondo ponte non ci sono "
           "fontane, e controllate le previsioni del tempo prima di partire."),
    ("pt", "A câmara municipal aprovou na terça-feira o alargamento do horário de funcionamento da "
           "biblioteca. Os moradores pediam há anos para poder frequentá-la à noite, sobretudo os "
           "estudantes que trabalham durante o dia.\nO novo horário começa no próximo mês."),
    ("pt", "Para fazer o molho, derreta a manteiga em fogo baixo e junte a farinha, mexendo sempre até "
           "que cheire a avelã. Depois acrescente o leite quente aos poucos, batendo sem parar para não "
           "formar grumos, e tempere com sal, pimenta e noz-moscada."),
    ("pt", "A trilha atravessa uma floresta de pinheiros e sobe até uma crista de onde se avista todo o "
           "vale. Leve bastante água, porque não há nascentes depois da segunda ponte, e confira a "
           "previsão do tempo antes de sair de casa."),
    ("nl", "De gemeenteraad heeft dinsdag besloten de openingstijden van de openbare bibliotheek te "
           "verruimen. Inwoners vroegen al jaren om toegang in de avond, vooral studenten die overdag "
           "werken.\nDe nieuwe tijden gaan volgende maand in en worden na een halfjaar geëvalueerd."),
    ("nl", "Smelt voor de saus de boter op laag vuur en roer de bloem erdoor tot het naar noten ruikt. "
           "Voeg daarna beetje bij beetje de warme melk toe en blijf kloppen, zodat er geen klontjes "
           "ontstaan. Breng op smaak met zout, peper en nootmuskaat."),
    ("nl", "De wandelroute loopt door een dennenbos en klimt daarna naar een brede heuvelrug met uitzicht "
           "over het hele dal. Neem voldoende water mee, want na de tweede brug is er geen bron meer, en "
           "kijk vooraf naar de weersverwachting."),
    ("ru", "Городской совет во вторник проголосовал за продление часов работы публичной библиотеки. "
           "Жители давно просили открыть её по вечерам, особенно студенты, которые работают днём.\n"
           "Новый график начнёт действовать со следующего месяца."),
    ("ru", "Для соуса растопите сливочное масло на слабом огне и добавьте муку, постоянно помешивая, пока "
           "не появится ореховый запах. Затем понемногу влейте тёплое молоко, взбивая венчиком, чтобы не "
           "было комочков, и приправьте солью, перцем и мускатным орехом."),
    ("ru", "Тропа поднимается через сосновый лес и выходит на широкий хребет, откуда видна вся долина. "
           "Возьмите с собой достаточно воды, потому что после второго моста родников нет, и заранее "
           "проверьте прогноз погоды."),
    ("zh", "市议会周二投票决定延长公共图书馆的开放时间。多年来，居民一直希望晚上也能去图书馆，"
           "尤其是白天需要上班的学生。\n新的开放时间将从下个月开始实行，半年后再进行评估。"),
    ("zh", "做酱汁时，先用小火把黄油融化，再加入面粉不停搅拌，直到闻到淡淡的坚果香味。"
           "然后一点一点倒入温热的牛奶，一边倒一边搅拌，避免结块，最后用盐、胡椒和肉豆蔻调味。"),
    ("zh", "这条徒步路线穿过一片松树林，然后登上一道宽阔的山脊，从那里可以看到整个山谷。"
           "请带足饮用水，因为过了第二座桥以后就没有泉水了，出发前也要查看天气预报。"),
    ("ja", "市議会は火曜日、公立図書館の開館時間を延長することを決めました。住民からは以前から、"
           "特に昼間に働いている学生を中心に、夜も利用したいという声が上がっていました。\n"
           "新しい開館時間は来月から始まります。"),
    ("ja", "ソースを作るには、弱火でバターを溶かし、小麦粉を加えて香ばしい香りがするまで混ぜます。"
           "次に温めた牛乳を少しずつ加え、だまにならないように泡立て器でよく混ぜてください。"
           "最後に塩、こしょう、ナツメグで味を調えます。"),
    ("ja", "このハイキングコースは松林を抜けて、谷全体を見渡せる広い尾根まで登ります。"
           "二つ目の橋を過ぎると水場がないので、水を十分に持って行き、出発前に天気予報を確認しましょう。"),
    ("ar", "صوّت مجلس المدينة يوم الثلاثاء على تمديد ساعات عمل المكتبة العامة. وكان السكان يطالبون منذ "
           "سنوات بإمكانية زيارتها في المساء، وخاصة الطلاب الذين يعملون خلال النهار.\n"
           "وسيبدأ العمل بالمواعيد الجديدة في الشهر المقبل."),
    ("ar", "لتحضير الصلصة، أذيبي الزبدة على نار هادئة ثم أضيفي الدقيق مع التحريك المستمر حتى تفوح منه "
           "رائحة البندق. بعد ذلك أضيفي الحليب الدافئ تدريجيًا مع الخفق حتى لا تتكون كتل، ثم تبّلي بالملح "
           "والفلفل وجوزة الطيب."),
    ("ar", "يمر مسار المشي عبر غابة من أشجار الصنوبر ثم يصعد إلى قمة واسعة يمكن منها رؤية الوادي كله. "
           "احمل معك كمية كافية من الماء، لأنه لا توجد ينابيع بعد الجسر الثاني، وتحقق من توقعات الطقس "
           "قبل الانطلاق."),
    ("pl", "Rada miejska we wtorek zdecydowała o wydłużeniu godzin otwarcia biblioteki publicznej. "
           "Mieszkańcy od lat prosili o możliwość korzystania z niej wieczorem, zwłaszcza studenci, którzy "
           "pracują w ciągu dnia.\nNowe godziny obowiązują od przyszłego miesiąca."),
    ("pl", "Aby przygotować sos, roztop masło na małym ogniu i dodaj mąkę, cały czas mieszając, aż zacznie "
           "pachnieć orzechami. Następnie stopniowo wlewaj ciepłe mleko, energicznie mieszając trzepaczką, "
           "żeby nie powstały grudki, i dopraw solą, pieprzem oraz gałką muszkatołową."),
    ("pl", "Szlak prowadzi przez las sosnowy i wspina się na szeroki grzbiet, z którego widać całą dolinę. "
           "Zabierz ze sobą dużo wody, bo za drugim mostem nie ma już źródeł, i przed wyjściem sprawdź "
           "prognozę pogody."),
    ("tr", "Belediye meclisi salı günü halk kütüphanesinin çalışma saatlerini uzatma kararı aldı. "
           "Mahalle sakinleri, özellikle gündüz çalışan öğrenciler, yıllardır kütüphanenin akşamları da "
           "açık olmasını istiyordu.\nYeni çalışma saatleri önümüzdeki ay başlayacak."),
    ("tr", "Sosu hazırlamak için tereyağını kısık ateşte eritin ve unu ekleyip fındık gibi kokana kadar "
           "karıştırın. Ardından ılık sütü azar azar ekleyin ve topaklanmaması için sürekli çırpın. "
           "Son olarak tuz, karabiber ve muskat ile tatlandırın."),
    ("tr", "Yürüyüş parkuru çam ormanının içinden geçerek bütün vadiyi gören geniş bir sırta çıkıyor. "
           "İkinci köprüden sonra su kaynağı olmadığı için yanınıza yeterince su alın ve yola çıkmadan "
           "önce hava durumunu kontrol edin."),
]

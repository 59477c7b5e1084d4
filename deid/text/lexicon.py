"""Word lists: name lexicons (detection in ALL-CAPS text and surrogates), US states, clinical vocabulary
that must never be taken for PHI, and the pools surrogates are drawn from."""

# Common US given names (SSA and census frequency lists, abridged). Used to spot names in ALL-CAPS text
# and as the surrogate pool for given names.
FIRST_NAMES = tuple(
    """
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony
mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan
jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander
frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle
ethan walter noah jeremy christian keith roger terry gerald harold sean austin carl arthur lawrence dylan
jesse jordan bryan billy joe bruce gabriel logan albert willie alan juan wayne elijah randy roy vincent
ralph eugene russell bobby mason philip louis harry howard fred ernest martin craig stanley shawn travis
luis carlos miguel ahmed mohammed ali omar hassan wei li chen raj amit sanjay vikram hiroshi kenji
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra
ashley kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura
cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine
debra rachel carolyn janet catherine maria heather diane ruth julie olivia joyce virginia victoria kelly
lauren christina joan evelyn judith megan andrea cheryl hannah jacqueline martha gloria teresa ann sara
madison frances kathryn janice jean abigail alice judy sophia denise marilyn beverly amber danielle
theresa diana brittany natalie isabella charlotte marie kayla alexis lori tiffany sylvia rosa elena
ana lucia carmen sofia mei yuki priya aisha fatima leila nadia irene eleanor agnes edith mildred
sam tom jim bob ben dan ed liz kate beth jen meg alex max nick chris tony mike matt dave steve rob
jeff greg ken tim jon josh andy drew nate zach jake luke kim tina cathy katie jenny becky sally
""".split()
)

# The surrogate pools by gender, so a wife stays a woman and a son a man in a scrubbed note: the list above
# runs male names, then female names, then nicknames of both.
_NICKNAMES_MALE = "sam tom jim bob ben dan ed alex max nick chris tony mike matt dave steve rob jeff greg ken tim "
_NICKNAMES_MALE += "jon josh andy drew nate zach jake luke"
MALE_GIVEN_NAMES = FIRST_NAMES[: FIRST_NAMES.index("mary")] + tuple(_NICKNAMES_MALE.split())
FEMALE_GIVEN_NAMES = FIRST_NAMES[FIRST_NAMES.index("mary") : FIRST_NAMES.index("sam")] + tuple(
    "liz kate beth jen meg kim tina cathy katie jenny becky sally".split()
)

# Given names from outside the US lists (Nordic, Finnish, German, Dutch, French, Italian, Spanish,
# Portuguese, Slavic, Hungarian, Irish, East and South Asian, Arabic, African, Hebrew), for detection only:
# names that are also English words (marina, sander, pascal, mercedes, milan, ling, jun) are left out.
WORLD_GIVEN_NAMES = frozenset(
    """
aksel anders astrid birgit bjorn björn britt eirik einar elin erik frederik frederikke freja frida gudrun
gunnar hakon halvard hanne harald helga henrik hilde ingrid inga jens johan jonas karin kari kjell knut lars
leif lena lennart mette mikkel nils olav oskar pernille ragnar rasmus sigrid signe silje solveig sven svend
tove ulla ulrik vibeke sigurd soren søren torben jørgen aino eero eino elina juha jukka kaisa kalle
lempi liisa mika mikko paavo pekka pirkko riikka sanna satu seppo tapio timo tuomas tuula ville anke bernd
dieter egon frauke gisela gunther günther hans heike heinz helmut ingo jannik jochen jörg
jürgen katrin klaus lutz maike manfred matthias mathias reinhard rolf sabine silke stefan torsten ulrich
uwe volker wolfgang wouter joost pieter bram daan femke jeroen joris lotte maarten sanne thijs willem
amélie aurélie benoît camille céline chloé clément élodie étienne françois gaëlle hélène jérôme julien léa
lucien mathilde mélanie noémie pierre rené sébastien thierry yves alessandro alessia antonio beatrice
chiara claudio cristina daniele davide elisa enzo federica francesca gianluca giorgio giovanni giulia
giuseppe leone lorenzo luca marco massimo matteo paolo pietro raffaele roberto salvatore silvana simona
stefano valentina vincenzo alejandro alvaro andrés beatriz diego enrique esteban fernando gonzalo ignacio
javier jorge lucía manuel pablo raúl rocío santiago sergio joão gonçalo inês joana tiago aleksandr alexei
anastasia andrei boris dmitri dmitry ekaterina fyodor galina igor irina ivan katya ludmila mikhail natalia
natasha nikolai oleg olga pavel sergei svetlana tatiana vladimir yuri zoya agnieszka bartosz dorota ewa
grzegorz jakub kasia katarzyna krzysztof magdalena małgorzata marek marta piotr tomasz wojciech zbigniew
jana petr pavla tereza zdeněk borna dragan goran ivana jelena marija milica nikola zoran branko mirko
andrás attila balázs csaba gábor györgy istván katalin lászló péter sándor zoltán zsófia zsuzsanna éva
anikó aoife cormac ciara ciarán niamh oisín seamus siobhan declan eamon fergus padraig róisín saoirse
akira haruto hina hiroko kenta yuto yui sakura takeshi yoshiko jiwoo minjun seojun jisoo xiaoming arjun
ananya deepak divya kavya lakshmi rahul rohan sunita vijay abdullah amina aaliyah hamza ibrahim karim
khalid layla mariam mustafa nour rania samir tariq yasmin youssef zainab kwame kofi amara chidi ngozi
oluwaseun tunde eitan noa tamar yael yosef caleb naomi tracy selma nina bertram eva kristina
""".split()
)

SURNAMES = tuple(
    """
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson
anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis
robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall
rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins
reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly
howard ramos kim cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes
price alvarez castillo sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan
bell coleman butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson alexander
hamilton graham reynolds griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina
aguilar stevens murray ford castro marshall owens harrison fernandez mcdonald woods washington kennedy
wells vargas henry chen freeman webb tucker guzman burns crawford olson simpson porter hunter gordon
mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose
stone salazar fox warren mills meyer rice schmidt garza daniels ferguson nichols stephens soto weaver
ryan gardner payne grant dunn kelley spencer hawkins arnold pierce vazquez hansen peters santos hart
bradley knight elliott cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray
delgado berry perkins hoffman johnston matthews pena richards contreras willis carpenter lawrence
sandoval guerrero george chapman rios estrada ortega watkins greene nunez wheeler valdez harper burke
larson santiago maldonado morrison franklin carlson austin dominguez carr lawson jacobs obrien lynch
singh vega bishop montgomery oliver jensen harvey williamson gilbert dean sims espinoza howell li wong
reid hanson le mccoy garrett burton fuller wang weber welch rojas lucas marquez fields park yang little
banks padilla day walsh bowman schultz luna fowler mejia davidson acosta brewer may holland juarez
newman pearson curtis cortez douglas schneider joseph barrett navarro figueroa keller avila wade molina
stanley hopkins campos barnett bates chambers caldwell beck lambert miranda byrd craig ayala lowe frazier
powers neal leonard gregory carrillo sutton fleming rhodes shelton schwartz norris jennings watts duran
walters cohen mcdaniel moran parks steele vaughn becker holt deleon barker terry hale leon hail benson
haynes horton miles lyons pham graves bush thornton wolfe warner cabrera mckinney mann zimmerman dawson
lara fletcher page mccarthy love robles cervantes solis erickson reeves chang klein salinas fuentes
baldwin daniel simon velasquez hardy higgins aguirre lin cummings chandler sharp barber bowen ochoa
dennis robbins liu ramsey francis griffith paul blair oconnor cardenas pacheco cross calderon quinn
moss swanson chan rivas khan rodgers serrano fitzgerald rosales stevenson christensen manning gill
curry mclaughlin harmon mcgee gross doyle garner newton burgess reese walton blake trujillo adkins
brady goodman roman webster goodwin fischer huang potter delacruz montoya todd wu hines mullins castaneda
malone cannon tate mack sherman hubbard hodges zhang guerra wolf valencia saunders franco rowe gallagher
farmer hammond hampton townsend ingram wise gallegos clarke barton schroeder maxwell waters logan camacho
strickland norman person colon parsons frank harrington glover osborne buchanan casey floyd patton
ibarra ball tyler suarez bowers orozco salas cobb gibbs andrade bauer conner moody escobar mcguire lloyd
mueller hartman french kramer mcbride pope lindsey velazquez norton mccormick sparks flynn yates hogan
marsh macias villanueva zamora pratt stokes owen ballard lang brock villarreal charles drake barrera
cain patrick pineda burnett mercado santana shepherd bautista ali shaffer lamb trevino mckenzie hess
beil olsen cochran morton nash wilkins petersen briggs shah roth nicholson holloway lozano rangel flowers
hoover short arias mora valenzuela bryan meyers weiss underwood bass greer summers houston carson morrow
clayton whitaker decker yoder collier zuniga carey wilcox melendez poole roberson larsen conley davenport
copeland massey lam huff rocha cameron jefferson hood monroe anthony pittman huynh randall singleton kirk
combs mathis christian skinner bradford richard galvan wall boone kirby wilkinson bridges bruce atkinson
velez meza roy vincent york hodge villa abbott allison tapia gates chase sosa sweeney farrell wyatt
dalton horn barron phelps yu dickerson heath foley atkins mathews bonilla acevedo benitez zavala hensley
glenn cisneros harrell shields rubio choi huffman boyer garrison arroyo bond kane hancock callahan dillon
cline wiggins grimes arellano melton oneill savage ho beltran pitts parrish ponce rich booth koch golden
ware brennan mcdowell marks cantu humphrey baxter sawyer clay tanner hutchinson kaur berg wiley gilmore
russo villegas hobbs keith wilkerson ahmed beard mcclain montes mata rosario vang walter henson oneal
mosley mcclure beasley stephenson snow huerta preston vance barry johns eaton blackwell dyer prince macdonald
solomon guevara stafford english hurst woodard cortes shannon kemp nolan mccullough merritt murillo moon
salgado strong kline cordova barajas roach rosas winters jacobson lester knox bullock kerr leach meadows
davila orr whitehead pruitt kent conway mckee barr david dejesus marin berger mcintyre blankenship gaines
palacios cuevas bartlett durham dorsey mccall odonnell stein browning stout lowery sloan mclean hendricks
calhoun sexton chung gentry hull duarte ellison nielsen gillespie buck middleton sellers leblanc esparza
hardin bradshaw mcintosh howe livingston frost glass morse knapp herman stark bravo noble spears weeks
corona frederick buckley mcfarland hebert enriquez hickman quintero randolph schaefer walls trejo house
reilly pennington michael conrad giles benjamin crosby fitzpatrick donovan mays mahoney valentine raymond
medrano hahn mcmillan small bentley felix peck lucero boyle hanna pace rush hurley harding mcconnell
bernal nava ayers everett ventura avery pugh mayer bender shepard mcmahon landry case sampson moses
magana blackburn dunlap gould duffy vaughan herring mckay espinosa rivers farley bernard ashley friedman
potts truong costa correa blevins nixon clements fry delarosa best benton lugo portillo dougherty crane
haley phan villalobos blanchard horne finley quintana lynn esquivel bean dodson mullen xiong hayden cano
levy huber richmond moyer lim frye sheppard mccarty avalos booker waller parra woodward jaramillo krueger
rasmussen brandt peralta donaldson stuart faulkner maynard galindo coffey estes sanford burch maddox vo
oconnell vu andersen spence mcpherson church schmitt stanton leal cherry compton dudley sierra pollard
alfaro hester proctor lu hinton novak good madden mccann terrell jarvis dickson reyna cantrell mayo
branch hendrix rollins rowland whitney duke odom daugherty travis tang archer
""".split()
)

# Given names that are also ordinary English words: never taken as a name on their own.
AMBIGUOUS_NAMES = frozenset(
    """will mark grace hope joy faith may june april august rose dawn bill art guy frank pat sue ray
    victor jack gene earl hunter page bell green white black brown young king long rich love grant
    bishop hall wood rice field banks ward cross little short small day price major penny chase max""".split()
)

# Ordinary words that start lines and sentences or appear capitalised in notes (headers, sections,
# clinical terms). A line whose capitalised words are all here needs no NER; a PERSON or place whose
# every word is here is a false positive.
COMMON_WORDS = frozenset(
    """
patient pt pts history hx present illness chief complaint cc hpi social family review systems ros
physical exam examination pe vital vitals signs labs lab laboratory results result impression assessment
plan diagnosis diagnoses dx procedure procedures medications medication meds allergies allergy known no
none nkda denies reports states notes note problem problems list past medical surgical psh pmh fh sh
general heent neck chest lungs heart cardiovascular abdomen abdominal extremities skin neuro neurologic
neurological psych psychiatric musculoskeletal genitourinary gu gi respiratory endocrine hematologic
lymphatic constitutional eyes ears nose throat mouth head back spine pelvis rectal breast breasts
admission discharge admitted discharged admit follow followup up return visit visits clinic office
hospital course consult consultation consults reason referral referred referring disposition condition
stable improved instructions diet activity wound care therapy treatment treatments recommendation
recommendations summary report findings finding technique comparison indication indications history
operative preoperative postoperative pre post op anesthesia surgeon surgery anesthesiologist assistant
estimated blood loss specimens specimen drains complications fluids description tolerated well good
fair poor normal abnormal negative positive unremarkable within limits mild moderate severe acute
chronic bilateral left right upper lower anterior posterior lateral medial proximal distal
the a an and or but if of in on at by for with without to from as is was were be been are this that
these those he she his her him they them their it its we our you your i my me mr mrs ms dr
yes not also then than there here when where which who whom what why how all any some each other
new old one two three four five six seven eight nine ten first second third last next prior previous
today yesterday tomorrow now currently current daily weekly monthly yearly annual
date time day days week weeks month months year years age aged old male female man woman boy girl
married single divorced widowed lives alone wife husband son daughter mother father sister brother
smoker smoking tobacco alcohol drugs drug use quit never former
insurance medicaid medicare employment employed unemployed retired works work school
blood pressure pulse temperature temp respirations respiratory rate oxygen saturation weight height bmi
heart rate rhythm regular irregular murmur murmurs rub gallop
alert oriented awake cooperative distress appears appearance
pain nausea vomiting diarrhea constipation fever chills cough dyspnea shortness breath fatigue
hypertension diabetes mellitus type hyperlipidemia asthma copd chf cad ckd afib obesity depression
anxiety cancer stroke infection pneumonia sepsis anemia
tablet tablets capsule capsules oral injection solution suspension dose doses mg mcg ml units unit
once twice bid tid qid qd qhs prn po iv im sc subq sublingual topical inhaled
ct mri xray x-ray ekg ecg echo ultrasound scan imaging radiology pathology cytology
cbc bmp cmp inr pt ptt hba1c a1c ldl hdl tsh bun cr creatinine glucose sodium potassium hemoglobin
hematocrit platelets wbc rbc
signed electronically dictated transcribed attending resident physician nurse md do rn np pa
department unit floor room bed service team
emergency er ed icu ccu micu sicu nicu picu pacu or
continue continued start started stop stopped increase decrease change changed discontinue
please call contact seen see saw evaluated evaluation noted note reviewed discussed
medicine internal pediatrics cardiology oncology neurology orthopedics surgery obstetrics gynecology
dermatology urology nephrology gastroenterology pulmonology endocrinology rheumatology psychiatry
w/ w/o s/p dx'd hx'd yo y/o m f latest appropriate survival mgmt rec alt tx recommended best practices
guidelines guideline management treatment options evidence protocol protocols risk score study trial
progress provider providers dose inhaler metered dl k/ul mg/dl mmol/l g/dl wt ht temp spo2 bmi
rhonchi rhonchus rales crackles wheezes wheeze wheezing gallops rubs murmurs nontender nondistended
normocephalic atraumatic supple erythema edema lymphadenopathy clubbing cyanosis tenderness guarding
rebound organomegaly hepatosplenomegaly perrla eomi anicteric diaphoretic afebrile tachycardic bradycardic
tachypneic euvolemic ambulatory ambulating actuat
""".split()
)

# Clinical abbreviations that spaCy's small model likes to call ORG, GPE or PERSON.
CLINICAL_ACRONYMS = frozenset(
    """
aha acc ada fda cdc who nih cms ace arb ace-i nsaid nsaids ssri snri ppi bid tid qid qhs prn po iv
im sq sc icu ccu micu sicu nicu picu pacu er ed or ob gyn ent gi gu cv pulm neuro psych copd chf cad
ckd esrd dm dm2 t2dm htn hld afib dvt pe mi cva tia uti uri gerd ibs ibd ra sle ms als hiv aids hcv
hbv tb rsv covid sars mrsa vre cdiff ekg ecg eeg emg mri ct pet cxr kub abg cbc bmp cmp lft lfts inr
ptt bnp tsh psa hba1c a1c ldl hdl bun egfr wbc rbc hgb hct plt mcv rdw esr crp ana rf nkda nka npo
dnr dni cpr acls bls rrt dx hx tx rx sx fx pmh psh fh sh ros hpi cc pe rrr ctab nad aox3 perrla eomi
bp hr rr spo2 bmi pt ot slp snf ltac rehab hospice pcp np pa rn lpn cna md do phd mph msw lcsw
mrn dob ssn acct jvd sex
""".split()
)
# More of the same, from nursing notes: diagnoses, procedures, lines and tubes, ventilator modes, routes and
# frequencies of doses, fluids. Kept apart from CLINICAL_ACRONYMS, which the trained tagger reads as a feature
# (a change there changes what the model sees).
NURSING_ACRONYMS = CLINICAL_ACRONYMS | frozenset(
    """
osa bph pvd pad aaa etoh cabg avr mvr pci cea orif tkr thr egd ercp tee tte lp peg ngt ogt ett picc cvl
abx vss nsr afib aflutter svt vt vf pvc pvcs pac pacs sbt rsbi cpap bipap psv peep ac hs pc qam qpm qod
qd sl pr td ivp ivpb neb nebs mdi ss cbg fsbs bm uo hd crrt cvvh cvvhd tf tpn ppn kcl ns lr d5w hob
rom aox3 mae perrl nt nd cta dnr/dni hcp cmo sob doe cp n/v abd bs ua ucx bcx
""".split()
)

# Eponyms of diseases, signs and scores that are not also common surnames (those are caught by context:
# "Wilson's disease", "Turner syndrome").
EPONYMS = frozenset(
    """hodgkin non-hodgkin crohn cushing addison graves hashimoto parkinson alzheimer huntington marfan
    barrett lyme gleason apgar glasgow framingham chaddock babinski kernig brudzinski guillain barre barré
    gehrig tourette raynaud sjogren sjögren kaposi wilms ewing burkitt hirschsprung meckel kawasaki takayasu
    wegener behcet behçet asperger bartter gitelman whipple zollinger wernicke korsakoff creutzfeldt jakob
    tay-sachs fanconi willebrand duchenne charcot dupuytren peyronie osgood schlatter perthes paget mallory
    boerhaave tinel phalen finkelstein lachman mcmurray trendelenburg romberg homans virchow cheyne kussmaul
    korotkoff doppler holter heimlich valsalva epley hallpike mcisaac centor ranson karnofsky heberden
    bouchard osler janeway quincke reye ehlers danlos klinefelter noonan prader angelman rett pompe gaucher
    fabry niemann hurler bell's bells down's epstein-barr epstein barr coombs gram wolff parkinson-white
    stevens-johnson mobitz wenckebach brugada kerley hartmann billroth nissen roux whipple's""".split()
)
# Words after a name that make it an eponym: "Bell's palsy", "Wells score", "Turner syndrome".
EPONYM_NEXT = frozenset(
    """disease syndrome sign signs score scores reflex criteria test maneuver manoeuvre lymphoma phenomenon
    palsy ulcer esophagus fracture classification scale rule procedure operation repair index type stage
    tumor tumour sarcoma node triad law effect risk study trial disorder thyroiditis encephalopathy
    dementia chorea anomaly malformation contracture node nodes block respiration stain classification
    virus pouch fundoplication""".split()
)
# Common drug brand names (spaCy's small model takes them for people, places and companies).
DRUG_BRANDS = frozenset(
    """tylenol advil motrin aleve lipitor crestor zocor plavix eliquis xarelto pradaxa coumadin lasix
    norvasc zestril prinivil cozaar diovan toprol lopressor coreg synthroid levoxyl glucophage januvia
    jardiance farxiga ozempic trulicity victoza lantus humalog novolog levemir tresiba basaglar humira
    enbrel remicade keytruda opdivo herceptin avastin rituxan spiriva advair symbicort breo ventolin
    proair singulair flonase zyrtec claritin allegra benadryl prilosec nexium protonix pepcid zantac
    zoloft prozac lexapro celexa paxil effexor cymbalta wellbutrin xanax ativan valium klonopin ambien
    seroquel abilify risperdal zyprexa lamictal keppra depakote dilantin neurontin lyrica ultram norco
    percocet vicodin oxycontin dilaudid suboxone narcan flomax proscar viagra cialis augmentin keflex
    cipro levaquin bactrim zithromax flagyl valtrex tamiflu paxlovid entresto aldactone imdur nitrostat
    lovenox heparin humulin""".split()
)

# USPS two-letter codes of states, DC and territories; a capitalised word before one is a city.
STATE_CODES = frozenset(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY
    NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP""".split()
)
STATE_NAMES = frozenset(
    """alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii
    idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
    mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah
    vermont virginia washington wisconsin wyoming""".split()
)

# Safe Harbor: 3-digit ZIP prefixes whose area held 20,000 people or fewer (2000 census, HHS guidance)
# become 000.
RESTRICTED_ZIP3 = frozenset("036 059 063 102 203 556 692 790 821 823 830 831 878 879 884 890 893".split())

# Surrogate pools (fictional).
SURROGATE_STREETS = (
    "Maple",
    "Oak",
    "Cedar",
    "Pine",
    "Elm",
    "Birch",
    "Willow",
    "Chestnut",
    "Walnut",
    "Spruce",
    "Hickory",
    "Juniper",
    "Magnolia",
    "Laurel",
    "Sycamore",
    "Aspen",
    "Hawthorn",
    "Linden",
    "Poplar",
    "Alder",
)
SURROGATE_STREET_TYPES = ("Street", "Avenue", "Road", "Lane", "Drive", "Court", "Place", "Way")
SURROGATE_CITIES = (
    "Fairview",
    "Riverton",
    "Lakeside",
    "Brookfield",
    "Cedar Falls",
    "Millbrook",
    "Oakdale",
    "Westbury",
    "Springvale",
    "Ashford",
    "Glenwood",
    "Harborview",
    "Kingsley",
    "Northfield",
    "Pinecrest",
    "Stonebridge",
)
SURROGATE_FACILITIES = (
    "Fairview General Hospital",
    "Riverton Medical Center",
    "Lakeside Community Clinic",
    "Brookfield Memorial Hospital",
    "Millbrook Family Practice",
    "Oakdale Regional Medical Center",
    "Westbury Health Center",
    "Springvale Hospital",
    "Ashford Clinic",
    "Glenwood Medical Group",
)
SURROGATE_ORGANIZATIONS = (
    "Northwind Traders",
    "Contoso Ltd",
    "Fabrikam Inc",
    "Acme Corporation",
    "Globex Corporation",
    "Initech",
    "Umbrella Industries",
    "Stark Logistics",
    "Wayne Enterprises",
    "Tailspin Toys",
)

# Endings of generic drug names (USAN stems).
DRUG_SUFFIXES = (
    "pril", "olol", "sartan", "statin", "mab", "nib", "cillin", "mycin", "floxacin", "azole", "dipine",
    "tidine", "prazole", "formin", "gliflozin", "gliptin", "parin", "xaban", "semide", "thiazide", "zepam",
    "azepam", "oxetine", "triptan", "vir", "sone", "olone", "caine", "profen", "oxacin", "cycline",
    "platin", "rubicin", "tinib", "zumab", "ximab", "lukast", "terol", "tropium", "dronate", "glitazone",
    "barbital", "codone", "morphone", "amine", "azine", "oxin", "statin", "pine", "done", "pam", "lam",
    "farin", "parin", "idone", "oxone", "osin", "setron",
)  # fmt: skip

# Countries and territories (English short names and common forms). HIPAA lets a country stay, but we take
# them out with the rest of a place: next to a town and a postcode they narrow it down.
COUNTRIES = frozenset(
    word.replace("_", " ")
    for word in """afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan
    bahamas bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei
    bulgaria burkina burundi cambodia cameroon canada chile china colombia comoros congo croatia cuba
    cyprus czechia denmark djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland
    france gabon gambia germany ghana greece greenland grenada guatemala guyana haiti honduras hungary
    iceland india indonesia iran iraq ireland israel italy jamaica japan kazakhstan kenya kiribati kosovo
    kuwait kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania luxembourg
    madagascar malawi malaysia maldives malta mauritania mauritius mexico micronesia moldova monaco
    mongolia montenegro morocco mozambique myanmar namibia nauru nepal netherlands nicaragua nigeria
    norway oman pakistan palau palestine panama paraguay peru philippines poland portugal qatar romania
    russia rwanda samoa senegal serbia seychelles singapore slovakia slovenia somalia spain sudan
    suriname sweden switzerland syria taiwan tajikistan tanzania thailand togo tonga tunisia turkmenistan
    tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam yemen zambia zimbabwe
    czech_republic united_kingdom united_states united_arab_emirates south_africa south_korea north_korea
    new_zealand saudi_arabia sri_lanka costa_rica el_salvador puerto_rico dominican_republic
    ivory_coast sierra_leone papua_new_guinea north_macedonia bosnia_and_herzegovina trinidad_and_tobago
    great_britain england scotland wales northern_ireland hong_kong faroe_islands cape_verde""".split()
)

# Capitalised clinical words that no English dictionary knows: brand drugs, vaccines, devices, lines and
# drains, scores and signs named after people, lab tests. The proper-noun pass would otherwise take them
# for names ("Foley removed", "Zofran PRN", "Morse Fall Scale").
CLINICAL_TERMS = frozenset(
    """
zofran reglan phenergan compazine colace senna miralax dulcolax imodium lomotil carafate entocort stelara
medrol solu-medrol decadron toradol haldol precedex levophed zosyn vanc vanco cefepime unasyn rocephin
brilinta effient zetia repatha bumex cardizem cordarone tikosyn multaq mounjaro vimpat topamax detrol
ditropan pyridium macrobid diflucan plaquenil xeljanz otezla dupixent xolair nucala trelegy duoneb
atrovent epipen cytomel fosamax prolia boniva evista premarin estrace provera depo-provera nexplanon
mirena gleevec revlimid tagrisso ibrance xtandi zytiga lupron arimidex femara neulasta procrit epogen
aranesp venofer feraheme tamsulosin doxazosin terazosin ondansetron procalcitonin troponin troponin-t
troponin-i lactate definity optison lexiscan adenosine regadenoson kcentra praxbind andexxa narcan
flomax glucagon accuchek accu-chek glucometer dexcom omnipod tdap dtap prevnar pneumovax shingrix
zostavax gardasil fluzone flublok comirnaty spikevax novavax foley rollator pleurx picc hickman mediport
port-a-cath groshong swan-ganz impella ecmo bipap cpap optiflow airvo trach peg vac wound-vac
jackson-pratt hemovac penrose dobhoff cortrak pigtail zio telemetry morse braden caprini padua wexner
child-pugh meld rankin nihss hunt-hess spetzler breslow mallampati cormack-lehane killip timi takotsubo
cheyne-stokes trousseau chvostek mcburney rovsing spurling lhermitte ortolani galeazzi dix-hallpike
snellen ishihara amsler ortho neuro cardio pulm onc nephro uro derm endo gyn peds psych rehab
hem-onc gen-surg ct-surg ent ob-gyn ir covid covid-19 sars-cov-2 influenza h1n1 rsv ebv cmv hsv mrsa
mssa vre esbl c-diff cdiff klebsiella pseudomonas enterococcus staph strep e-coli candida aspergillus
jehovah
""".split()
)

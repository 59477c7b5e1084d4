"""Frames of ICU nursing shorthand (the second grammar of synthetic/clinical_sentences.py), in families: a
family is one way of writing one kind of fact, and the tuning and check parts take different families, so
the check part writes forms the tuning part never writes."""

# family name -> (class, frames). Fields in braces are filled by ClinicalSentences._fill.
# fmt: off
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "repletion": ("lab", (
        "K {k} repleted w/ {meq} KCL",
        "K {k} repleted w/ {meq} meq KCL PO, recheck at {clock}",
        "Mg {mg} repleted w/ {g} gm Mg sulfate",
        "Phos {phos}, repleted w/ {n} packets neutraphos",
        "iCa {ica} - {g} gm Ca gluconate given",
    )),
    "panel_slash": ("lab", (
        "lytes {na}/{k}/{cl}/{hco3}/{bun}/{cr}/{glu}",
        "CBC {wbc}/{hct}/{plt}",
        "coags {pt}/{ptt}/{inr}",
        "chem 7 wnl except K {k}",
        "labs: wbc {wbc} hct {hct} plt {plt} inr {inr}",
    )),
    "gas": ("lab", (
        "ABG {ph}/{pco2}/{po2}",
        "ABG {ph}/{pco2}/{po2}/{hco3}/{be}",
        "VBG {ph}/{pco2}",
        "last ABG on {vent_mode} {ph}/{pco2}/{po2}",
        "ABG {ph}/{pco2}/{po2}, lactate {lac}",
    )),
    "trend": ("lab", (
        "hct {hct} -> {hct2} -> {hct3}",
        "wbc {wbc} (from {wbc2})",
        "cr {cr} stable",
        "bs {bs_lo}-{bs} covered per ss",
        "lactate {lac} down from {lac2}",
    )),
    "vital_tens": ("vital", (
        "HR {hr_lo}s-{hr_tens}s {rhythm}",
        "SBP {sbp_tens}s-{sbp_tens2}s",
        "BP {sbp}/{dbp}-{sbp2}/{dbp2}",
        "HR {hr} {rhythm} no ectopy, BP {sbp}/{dbp} MAP {map}",
        "RR {rr_lo}-{rr} sats {sat_lo}-{sat}%",
    )),
    "temperature": ("vital", (
        "T max {tmax}",
        "Tmax {tmax} po, tc {temp}",
        "afebrile, t max {tmax} at {clock}",
        "temp {temp_c} c axillary, {tmax} f rectal",
        "T {tmax} - pan cx'd, tylenol {tyl} mg pr",
    )),
    "hemodynamics": ("vital", (
        "CVP {cvp}-{cvp2}",
        "PAD {pad}-{pad2}, CVP {cvp}",
        "CO/CI {co}/{ci}, SVR {svr}",
        "SVO2 {svo2}%, PA {pas}/{pad}",
        "wedge {wedge}, CVP {cvp}, CO {co}",
    )),
    "urine": ("dose", (
        "UO {uo_lo}-{uo_hi}cc/hr",
        "U/O {uo} cc/hr via foley",
        "foley draining {uo_lo}-{uo_hi}cc/hr clear yellow urine",
        "UO marginal {uo_lo}-{uo_lo2} cc/hr, lasix {lasix} mg iv given",
        "uop {uo}cc/hr",
    )),
    "balance": ("dose", (
        "I/O +{liters}L",
        "I/O {io}/{io2} ({sign}{net})",
        "LOS {sign}{liters} L",
        "pt +{io} cc for shift, {sign}{liters}L LOS",
        "24 hr I/O {io}/{io2}",
    )),
    "drip_rate": ("dose", (
        "{pressor} @ .{dec}mcg/kg/min",
        "{pressor} @ {x} mcg/min",
        "propofol @ {x}mcg/kg/min",
        "insulin gtt @ {u}u/hr",
        "{pressor} weaned to .{dec} mcg/kg/min",
        "heparin gtt @ {u3}u/hr, ptt {ptt}",
    )),
    "infusion": ("dose", (
        "TF @ {rate}cc/hr, goal {goal}",
        "NS @ {rate} cc/hr",
        "bolused {bolus}cc NS x{n}",
        "D5 1/2NS w/ 20 KCL @ {rate}",
        "{n} u PRBC given, post hct {hct}",
    )),
    "gcs_short": ("score", (
        "GCS {gcs}T",
        "GCS 3T, pupils {pupil}mm nonreactive",
        "GCS {gcs} (E{e} VT M{m})",
        "GCS {gcs}, MAE, follows commands",
        "gcs {gcs}t off sedation",
    )),
    "scales": ("score", (
        "{scale} score {n}",
        "{scale} {n}",
        "{scale} class {n}",
        "{scale} score of {n} this am",
    )),
    "pain_sedation": ("score", (
        "pain {pain}/10 -> {pain2}/10 after {drug} {dose}",
        "RASS {rass} on propofol @ {x}",
        "CIWA {ciwa}, ativan {n} mg iv",
        "denies pain, 0/10",
    )),
    "vent": ("equipment", (
        "PSV {ps}/{peep} FIO2 {fio2}%",
        "AC {tv}x{rate_vent} PEEP {peep} {fio2}%",
        "SIMV {tv}/{rate_vent}/{ps}/{peep}",
        "CPAP+PS {ps}/{peep}, RSBI {rsbi}",
        "vent: A/C {tv} x {rate_vent}, {peep} PEEP, {fio2}%",
    )),
    "airway": ("equipment", (
        "sx for thick tan sputum q{q}h",
        "ETT {ett_size} @ {ett_lip} cm at lip",
        "ETT {ett_size} {ett_lip} @ teeth, cuff leak present",
        "placed on {o2}, sats {sat}%",
        "peak pressures {pip}-{pip2}, plat {plat}",
    )),
    "lines": ("equipment", (
        "R IJ TLC, L radial aline",
        "PIV x{n}, {gauge}g L FA",
        "CVL L SC day #{pod}",
        "swan @ {picc} cm, waveform wnl",
        "a-line dampened, flushed",
    )),
    "lungs": ("abbreviation", (
        "BS coarse bibasilar",
        "LS clear upper, dim bases",
        "LS {ls} t/o, {ls2} R base",
        "bs {ls} bilat, sx'd for sm amt",
        "breath sounds {ls} ant, {ls2} post",
    )),
    "gi_gu": ("abbreviation", (
        "abd soft NT/ND +BS",
        "BS hypoactive x4",
        "no BM, OGT to LCWS",
        "foley to CD {urine}",
        "OGT placement checked, TF held for residual {resid}cc",
    )),
    "wards": ("abbreviation", (
        "transferred to {ward} from {ward2}",
        "pt to {ward} for {study}",
        "admitted to {ward} from OR",
        "{ward} team aware",
        "seen by {ward} resident",
    )),
    "neuro": ("abbreviation", (
        "A&O x{ox}, MAE x4",
        "PERRL {pupil}mm brisk",
        "neuro unchanged, q{q}h checks",
        "follows commands x4 ext",
    )),
    "med_list": ("drug", (
        "meds: {drug} {dose} {route} {freq}, {drug2} {dose2} {route2} {freq2}",
        "{drug} {dose} {route} {freq} / {drug2} {dose2} {route2} {freq2}",
        "rec'd {drug} {dose} {route}, {drug2} {dose2} {route2}",
        "gtts: {drug}, {drug2}",
        "abx: {drug} {dose} {route} q{q}h",
    )),
    "brand_start": ("drug", (
        "{Drug} given",
        "{Drug} held",
        "{Drug} x1 for {indication}",
        "{Drug} d/c'd",
        "{Drug} {dose} given @ {clock}",
        "{Drug} and {drug2} restarted",
    )),
    "clock_ranges": ("time", (
        "{clock}-{clock2}",
        "{clock}-{clock2} uneventful",
        "sleeping {clock}-{clock2}",
        "off unit for {study} {clock}-{clock2}",
        "hypotensive {clock}-{clock2}, bolused",
    )),
    "frequency": ("time", (
        "turned q{q}h",
        "sx q{q}h and prn",
        "vitals q{q}h x{n}",
        "lytes q{q}h",
        "bs q{q}h, ss insulin",
    )),
    "eponymous": ("eponym", (
        "{eponym2} positive",
        "{eponym2} noted",
        "neg {eponym2}",
        "{eponym2} on exam",
    )),
    "devices": ("eponym", (
        "{device2} in place",
        "{device2} to LWS",
        "{device2} to sx, {amount}cc out",
        "{device2} d/c'd",
        "{device2} intact",
    )),
    "vs_line": ("vital", (
        "VS: {temp}/{hr}/{rr}/{sbp}/{dbp}/{sat}% {o2}",
        "T {temp} HR {hr} BP {sbp}/{dbp} RR {rr} O2 sat {sat}%",
        "vss, hr {hr_lo}'s {rhythm}, sbp {sbp_tens}'s-{sbp_tens2}'s",
        "HR {hr} ({hr_lo}-{hr_tens}), BP {sbp}/{dbp} ({sbp_lo}-{sbp_hi}/{dbp_lo}-{dbp_hi})",
    )),
    "exam_values": ("lab", (
        "plt {plt}K, wbc {wbc}K",
        "k {k} (rechecked), mg {mg}, ca {ca}",
        "glucose {bs} - {u} u humalog per ss",
        "fs {bs_lo}, {bs} and {bs2}",
        "ck {ck}, trop < {trop}",
    )),
    "abx_combo": ("drug", (
        "{pressor}/{drug} gtts",
        "abx: vanco/zosyn/{drug}",
        "on {drug}/{drug2}, afebrile",
        "{drug} {dose} {route} q{q}h x {n} doses",
        "{drug} changed to {drug2} per ID",
    )),
    "clipped_meds": ("drug", (
        "dilt gtt @ {x}mg/hr",
        "lopressor {n}mg ivp x{n}",
        "mso4 {n}mg iv q{q}h prn",
        "kcl {meq}meq po, mag {g}gm iv",
        "ntg gtt off, {drug} restarted",
    )),
    "skin": ("abbreviation", (
        "coccyx stage {n}, duoderm intact",
        "skin w/d/i, no breakdown",
        "heels boggy, waffle boots on",
        "sacral decub stage {n}, wound care following",
        "+{n} pitting edema BLE",
    )),
    "strength": ("score", (
        "strength {mmt}/5 RUE, {mmt2}/5 LUE",
        "DTRs {n}+ bilat",
        "pupils {pupil}-{pupil2}mm sluggish",
        "MAE {mmt}/5 x4",
        "grips {mmt}/5 equal",
    )),
    "clock_events": ("time", (
        "@ {clock} pt desat to {sat_lo}%",
        "at {clock} HR to {hr_tens}s",
        "since {clock2} uo < {uo_lo}cc/hr",
        "lytes due @ {clock}, next hct @ {clock2}",
        "{clock} - resp: sx x{n}",
    )),
    "settings_more": ("equipment", (
        "BIPAP {ipap}/{epap} {fio2}%",
        "{o2} -> {o2b}",
        "trach mask {fio2}%, sx q{q}h",
        "CT to -{suction} cm H2O, no leak, {amount}cc out",
        "CVVHDF @ {cvvh}cc/hr, UF {uf}/hr",
    )),
    "eponym_history": ("eponym", (
        "pmh: {eponym_disease}, {hx}",
        "hx {eponym_disease} ({hx})",
        "known {eponym_disease}, on home meds",
    )),
    "net": ("dose", (
        "{sign}{io}cc since mn",
        "even for shift",
        "{sign}{liters} L today, {sign2}{liters2} L LOS",
        "total in {io} / out {io2}",
    )),
    "narrative": ("drug", (
        "pt remains on {pressor} gtt, titrated to keep map > {map_lo}",
        "{drug} {dose} {route} q{q}h prn w/ good effect",
        "lasix {lasix}mg iv @ {clock} w/ {bolus}cc uo response",
        "pt c/o ha, {drug} given w/ relief",
        "{drug} increased to {dose} per team, will follow bp",
    )),
    "ions": ("lab", (
        "K+ {k}, Mg++ {mg}, iCa++ {ica}",
        "HCO3- {hco3}, AG {ag}",
        "PO2 {po2} on {fio2}%",
        "O2 sat {sat}% on {o2}",
        "Na+ {na}, Cl- {cl}",
    )),
    "systems": ("abbreviation", (
        "ID: tmax {tmax}, vanco/zosyn, cx pending",
        "heme: hct {hct}, {n}u prbc ordered",
        "CXR: RLL infiltrate, ETT in good position",
        "EKG: NSR, 1st deg AVB, no ST changes",
        "GI: OGT to LIS, KUB confirms placement",
    )),
    "fractions": ("dose", (
        "D5 1/2 NS @ {rate}cc/hr",
        "TF at 1/2 strength, advance to 3/4 in {n} hrs",
        "2/3 maintenance IVF",
        "1/2 tab {drug} po",
        "pupils 3/3 brisk",
    )),
    "rhythm": ("vital", (
        "{rhythm2}, rate {hr}",
        "brief run {rhythm2} -> {rhythm}",
        "{rhythm2} at {clock}, resolved",
    )),
}
# fmt: on

# Wards and units of a hospital by kind (every hospital has one; no hospital is named by them).
WARDS = ("MICU", "SICU", "CCU", "CSRU", "TSICU", "NSICU", "CVICU", "PACU", "NICU", "ICU", "ED", "EW", "OR",
         "cath lab", "floor", "rehab", "step down", "IR", "CT")  # fmt: skip
# Pressors and sedatives as nurses clip them.
PRESSORS = ("neo", "levo", "levophed", "dopa", "dobut", "vaso", "epi", "ntg", "nipride", "milrinone")
# Ventilator modes.
VENT_MODES = ("AC", "A/C", "SIMV", "PSV", "CPAP", "PRVC", "APRV", "BiPAP")
# Eponymous scales, scores and classes.
SCALES = ("Ramsay", "Richmond", "Glasgow", "Hunt and Hess", "Fisher", "Child-Pugh", "Ranson", "Aldrete",
          "Wells", "Mallampati", "Killip", "Norton", "Waterlow", "Bromage", "Spetzler-Martin", "Rockall",
          "Glasgow-Blatchford", "Caprini", "Padua", "Karnofsky", "Berg", "Lund-Browder", "Norwood", "Ashworth",
          "Mallampati class", "Hunt-Hess", "Marshall", "Rankin", "Katz", "Lawton")  # fmt: skip
# Eponymous signs, triads, pulses, waves and heart blocks, as an ICU note names them without a head noun
# ("Battle's positive"); the head noun is often there ("Cullen's sign").
EPONYMS_SHORT = ("Battle's sign", "Cullen's sign", "Grey Turner's sign", "Homan's sign", "Chvostek's",
                 "Trousseau's", "Kernig's", "Brudzinski's", "Babinski", "upgoing Babinski", "Beck's triad",
                 "Cushing's triad", "Virchow's triad", "Kussmaul's sign", "Murphy's sign", "McBurney's point",
                 "Quincke's pulse", "Corrigan's pulse", "Janeway lesions", "Osler's nodes", "Roth spots",
                 "Osborn waves", "Hamman's crunch", "Nikolsky's sign", "Romberg", "Hoover's sign",
                 "Kehr's sign", "Rovsing's sign", "Levine's sign", "Lhermitte's", "Phalen's", "Tinel's",
                 "Ortolani", "Barlow", "Allen's test", "Trendelenburg gait", "Cheyne Stokes",
                 "Kussmaul resp")  # fmt: skip
# Devices and supplies of an ICU by maker's or inventor's name, alone (no head noun after them).
DEVICES_SHORT = ("Pleurevac", "Atrium", "Dobhoff", "Flexiseal", "Rotoprone", "Kinair", "Hemovac", "Foley",
                 "Swan", "Cordis", "Quinton", "Mahurkar", "Hickman", "Bair Hugger", "Posey", "Ambu", "Yankauer",
                 "Salem sump", "Miami J", "Aspen collar", "JP", "Blake", "Penrose", "Ommaya", "Camino bolt",
                 "Licox", "Impella", "Arctic Sun", "Kangaroo pump", "Passy-Muir valve", "Shiley",
                 "Bivona", "Sengstaken", "Minnesota tube", "Groshong", "Tenckhoff", "Broviac",
                 "Mediport", "Portacath", "PleurX", "Heimlich valve", "Robertshaw tube")  # fmt: skip
# Rhythms named after people, or shorthand.
RHYTHMS_NAMED = ("Mobitz I", "Mobitz II", "Wenckebach", "WPW", "SVT", "NSVT", "VT", "AFIB W/ RVR", "AFL 2:1",
                 "junctional", "1st degree AVB", "CHB", "torsades", "bigeminy", "trigeminy")  # fmt: skip
# Oxygen devices and flows as nurses write them.
O2_MORE = ("2LNC", "4L NP", "40% FT", "50% face tent", "100% NRB", "6L NC + 40% shovel", "hi flow 60%",
           "RA", "1/2L NC", "TM 35%")  # fmt: skip

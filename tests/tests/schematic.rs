//! The schematic and the firmware agree on every pin.
//!
//! Reads the committed `schematics/kiosk.kicad_sch` itself (not the generator's tables):
//! parses its s-expressions, places every symbol's pins, joins wires, labels and power
//! ports into nets, and follows each header pin to the part it reaches. That is compared
//! with the firmware's default pin config, loaded through the firmware's own parser, and
//! with the BCM-to-header mapping the firmware uses. A negative control shows the
//! comparison notices a moved label and a changed pin.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use consentcam_hardware::PinConfig;
use consentcam_hardware::pins::{I2C1_PINS, SPI0_PINS, header_pin};
use consentcam_kiosk::config::Config;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schematic_text() -> String {
    std::fs::read_to_string(repo().join("schematics/kiosk.kicad_sch")).unwrap()
}

fn default_pins() -> PinConfig {
    let config = Config::load(&repo().join("firmware/config/kiosk.toml")).unwrap();
    assert_eq!(
        config.pins,
        PinConfig::default(),
        "kiosk.toml and PinConfig::default() differ"
    );
    config.pins
}

// ---------------------------------------------------------------------------------------
// S-expressions.

#[derive(Debug, Clone)]
enum Sexp {
    Atom(String),
    List(Vec<Sexp>),
}

impl Sexp {
    fn list(&self) -> &[Sexp] {
        match self {
            Sexp::List(items) => items,
            Sexp::Atom(_) => &[],
        }
    }

    fn head(&self) -> Option<&str> {
        match self.list().first() {
            Some(Sexp::Atom(a)) => Some(a),
            _ => None,
        }
    }

    fn atom(&self, i: usize) -> Option<&str> {
        match self.list().get(i) {
            Some(Sexp::Atom(a)) => Some(a),
            _ => None,
        }
    }

    fn num(&self, i: usize) -> f64 {
        self.atom(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("expected a number at {i} in {self:?}"))
    }

    fn children<'a>(&'a self, head: &'a str) -> impl Iterator<Item = &'a Sexp> + 'a {
        self.list().iter().filter(move |c| c.head() == Some(head))
    }

    fn child(&self, head: &str) -> Option<&Sexp> {
        self.list().iter().find(|c| c.head() == Some(head))
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.list()
            .iter()
            .any(|c| matches!(c, Sexp::Atom(a) if a == flag))
            || self.child(flag).is_some()
    }
}

fn parse_sexp(text: &str) -> Sexp {
    let mut stack: Vec<Vec<Sexp>> = vec![Vec::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' => stack.push(Vec::new()),
            ')' => {
                let done = stack.pop().expect("unbalanced )");
                stack
                    .last_mut()
                    .expect("unbalanced )")
                    .push(Sexp::List(done));
            }
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => s.extend(chars.next()),
                        '"' => break,
                        c => s.push(c),
                    }
                }
                stack.last_mut().unwrap().push(Sexp::Atom(s));
            }
            c if c.is_whitespace() => {}
            c => {
                let mut s = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || n == '(' || n == ')' {
                        break;
                    }
                    s.push(n);
                    chars.next();
                }
                stack.last_mut().unwrap().push(Sexp::Atom(s));
            }
        }
    }
    let mut top = stack.pop().unwrap();
    assert!(stack.is_empty(), "unbalanced (");
    assert_eq!(top.len(), 1, "one top-level expression");
    top.remove(0)
}

// ---------------------------------------------------------------------------------------
// The schematic as nets.

/// A point in units of 0.1 µm, so equal coordinates compare equal.
type Point = (i64, i64);

fn point(x: f64, y: f64) -> Point {
    ((x * 10_000.0).round() as i64, (y * 10_000.0).round() as i64)
}

#[derive(Debug, Clone)]
struct LibPin {
    number: String,
    name: String,
    kind: String,
    x: f64,
    y: f64,
}

#[derive(Debug, Clone)]
struct Part {
    reference: String,
    value: String,
    /// A power port: its Value names a global net (GND, +3V3).
    power: bool,
    /// A power symbol that is not a port (PWR_FLAG): part of no netlist.
    flag: bool,
    /// pin number -> (pin name, where it connects on the sheet)
    pins: BTreeMap<String, (String, Point)>,
}

#[derive(Debug)]
struct Netlist {
    parts: BTreeMap<String, Part>,
    /// (reference, pin number) -> net id
    net_of: HashMap<(String, String), usize>,
}

impl Netlist {
    fn net(&self, reference: &str, pin: &str) -> Option<usize> {
        self.net_of
            .get(&(reference.to_owned(), pin.to_owned()))
            .copied()
    }

    /// Every (reference, pin) on a net, power ports excluded.
    fn members(&self, net: usize) -> BTreeSet<(String, String)> {
        self.net_of
            .iter()
            .filter(|(key, n)| **n == net && !self.parts[&key.0].power && !self.parts[&key.0].flag)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// The power net names joined to `net`.
    fn power_names(&self, net: usize) -> BTreeSet<String> {
        self.net_of
            .iter()
            .filter(|(key, n)| **n == net && self.parts[&key.0].power)
            .map(|(key, _)| self.parts[&key.0].value.clone())
            .collect()
    }
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, i: usize) -> usize {
        let parent = self.0[i];
        if parent == i {
            return i;
        }
        let root = self.find(parent);
        self.0[i] = root;
        root
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        self.0[a] = b;
    }
}

fn on_segment(p: Point, a: Point, b: Point) -> bool {
    let cross =
        (b.0 - a.0) as i128 * (p.1 - a.1) as i128 - (b.1 - a.1) as i128 * (p.0 - a.0) as i128;
    cross == 0
        && p.0 >= a.0.min(b.0)
        && p.0 <= a.0.max(b.0)
        && p.1 >= a.1.min(b.1)
        && p.1 <= a.1.max(b.1)
}

fn netlist(text: &str) -> Result<Netlist, String> {
    let root = parse_sexp(text);
    if root.head() != Some("kicad_sch") {
        return Err("not a KiCad schematic".into());
    }

    let mut library: HashMap<String, (bool, Vec<LibPin>)> = HashMap::new();
    let libs = root.child("lib_symbols").ok_or("no lib_symbols")?;
    for sym in libs.children("symbol") {
        let name = sym.atom(1).ok_or("unnamed symbol")?.to_owned();
        let mut pins = Vec::new();
        for unit in sym.children("symbol") {
            for pin in unit.children("pin") {
                let at = pin.child("at").ok_or("pin without at")?;
                pins.push(LibPin {
                    kind: pin.atom(1).unwrap_or("").to_owned(),
                    number: pin
                        .child("number")
                        .and_then(|n| n.atom(1))
                        .ok_or("pin without number")?
                        .to_owned(),
                    name: pin
                        .child("name")
                        .and_then(|n| n.atom(1))
                        .unwrap_or("")
                        .to_owned(),
                    x: at.num(1),
                    y: at.num(2),
                });
            }
        }
        library.insert(name, (sym.has_flag("power"), pins));
    }

    let mut parts = BTreeMap::new();
    for inst in root.children("symbol") {
        let lib_id = inst
            .child("lib_id")
            .and_then(|l| l.atom(1))
            .ok_or("symbol without lib_id")?;
        let (power_symbol, lib_pins) = library
            .get(lib_id)
            .ok_or_else(|| format!("{lib_id} is not embedded in lib_symbols"))?;
        let property = |name: &str| {
            inst.children("property")
                .find(|p| p.atom(1) == Some(name))
                .and_then(|p| p.atom(2))
                .unwrap_or("")
                .to_owned()
        };
        let reference = property("Reference");
        if inst.child("mirror").is_some() {
            return Err(format!("{reference}: mirrored symbols are not supported"));
        }
        let at = inst.child("at").ok_or("symbol without at")?;
        let (x, y, angle) = (at.num(1), at.num(2), at.num(3));
        let (sin, cos) = angle.to_radians().sin_cos();
        let pins = lib_pins
            .iter()
            .map(|p| {
                // Library y points up, the sheet's down; rotation is counter-clockwise.
                let (rx, ry) = (p.x * cos - p.y * sin, p.x * sin + p.y * cos);
                (p.number.clone(), (p.name.clone(), point(x + rx, y - ry)))
            })
            .collect();
        if parts.contains_key(&reference) {
            return Err(format!("{reference} appears twice"));
        }
        parts.insert(
            reference.clone(),
            Part {
                reference,
                value: property("Value"),
                // KiCad makes a global net only of a power symbol whose pins are power inputs.
                power: *power_symbol && lib_pins.iter().all(|p| p.kind == "power_in"),
                flag: *power_symbol && lib_pins.iter().any(|p| p.kind != "power_in"),
                pins,
            },
        );
    }

    // Nodes: every pin, wire end and label; joined by wires, by touching, and by name.
    let mut points: Vec<Point> = Vec::new();
    let mut names: Vec<Option<String>> = Vec::new();
    let mut node = |p: Point, name: Option<String>| {
        points.push(p);
        names.push(name);
        points.len() - 1
    };
    let mut pin_node = HashMap::new();
    for part in parts.values() {
        for (number, (_, p)) in &part.pins {
            let name = part.power.then(|| format!("power:{}", part.value));
            pin_node.insert((part.reference.clone(), number.clone()), node(*p, name));
        }
    }
    let mut wires = Vec::new();
    for wire in root.children("wire") {
        let pts: Vec<Point> = wire
            .child("pts")
            .ok_or("wire without pts")?
            .children("xy")
            .map(|xy| point(xy.num(1), xy.num(2)))
            .collect();
        for pair in pts.windows(2) {
            let a = node(pair[0], None);
            let b = node(pair[1], None);
            wires.push((a, b));
        }
    }
    for kind in ["label", "global_label", "hierarchical_label"] {
        for label in root.children(kind) {
            let at = label.child("at").ok_or("label without at")?;
            let name = label.atom(1).ok_or("label without text")?;
            node(point(at.num(1), at.num(2)), Some(format!("label:{name}")));
        }
    }

    let mut uf = UnionFind((0..points.len()).collect());
    for &(a, b) in &wires {
        uf.union(a, b);
        for (i, &p) in points.iter().enumerate() {
            if on_segment(p, points[a], points[b]) {
                uf.union(i, a);
            }
        }
    }
    let mut by_point: HashMap<Point, usize> = HashMap::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for i in 0..points.len() {
        if let Some(&j) = by_point.get(&points[i]) {
            uf.union(i, j);
        } else {
            by_point.insert(points[i], i);
        }
        if let Some(name) = &names[i] {
            if let Some(&j) = by_name.get(name) {
                uf.union(i, j);
            } else {
                by_name.insert(name.clone(), i);
            }
        }
    }
    let net_of = pin_node
        .into_iter()
        .map(|(key, i)| (key, uf.find(i)))
        .collect();
    Ok(Netlist { parts, net_of })
}

// ---------------------------------------------------------------------------------------
// The comparison.

/// Where each config function must land: (reference, pin name, a word its value contains).
fn expected_part(function: &str) -> (&'static str, &'static str, &'static str) {
    match function {
        "reader_rst" => ("U1", "RST", "MFRC522"),
        "led_green" => ("R1", "~", ""),
        "led_red" => ("R2", "~", ""),
        "buzzer" => ("R3", "~", ""),
        "button_ok" => ("SW1", "1", "OK"),
        "button_cancel" => ("SW2", "1", "Cancel"),
        "lock_relay" => ("R5", "~", ""),
        "reed_switch" => ("SW3", "1", "reed"),
        other => panic!("the test does not know the function {other}"),
    }
}

/// What a resistor in series with a GPIO leads on to (so R1 is the green LED's, not the red's).
fn leads_to(function: &str) -> Option<(&'static str, &'static str)> {
    match function {
        "led_green" => Some(("D1", "green")),
        "led_red" => Some(("D2", "red")),
        "buzzer" => Some(("Q1", "")),
        "lock_relay" => Some(("Q2", "")),
        _ => None,
    }
}

fn header_net(nets: &Netlist, gpio: u8, errors: &mut Vec<String>) -> Option<usize> {
    let Some(pin) = header_pin(gpio) else {
        errors.push(format!("GPIO {gpio} is not on the header"));
        return None;
    };
    let net = nets.net("J1", &pin.to_string());
    if net.is_none() {
        errors.push(format!("J1 has no pin {pin}"));
    }
    net
}

fn pin_numbers_named(part: &Part, name: &str) -> Vec<String> {
    part.pins
        .iter()
        .filter(|(_, (n, _))| n == name)
        .map(|(number, _)| number.clone())
        .collect()
}

/// Every way the schematic disagrees with `pins`, as sentences; empty when they agree.
fn compare(schematic: &str, pins: &PinConfig) -> Vec<String> {
    let nets = match netlist(schematic) {
        Ok(nets) => nets,
        Err(e) => return vec![e],
    };
    let mut errors = Vec::new();
    let Some(j1) = nets.parts.get("J1") else {
        return vec!["no J1 (the Pi's header)".into()];
    };

    // The header symbol's GPIO names follow the firmware's BCM-to-header mapping.
    let mut on_header = BTreeSet::new();
    for (number, (name, _)) in &j1.pins {
        if let Some(gpio) = name
            .split_whitespace()
            .next()
            .and_then(|w| w.strip_prefix("GPIO"))
        {
            let gpio: u8 = gpio.parse().unwrap_or(u8::MAX);
            if header_pin(gpio).map(|p| p.to_string()).as_deref() != Some(number.as_str()) {
                errors.push(format!(
                    "J1 pin {number} is named {name:?}, but GPIO {gpio} is header pin {:?}",
                    header_pin(gpio)
                ));
            }
            on_header.insert(gpio);
        }
    }
    if on_header.len() != 28 {
        errors.push(format!(
            "J1 names {} GPIOs, the header has 28",
            on_header.len()
        ));
    }

    let mut used: BTreeSet<u8> = BTreeSet::new();
    for (function, gpio) in pins.table() {
        used.insert(gpio);
        let Some(net) = header_net(&nets, gpio, &mut errors) else {
            continue;
        };
        let (reference, pin_name, value_word) = expected_part(function);
        let Some(part) = nets.parts.get(reference) else {
            errors.push(format!("{function}: no part {reference}"));
            continue;
        };
        if !part.value.contains(value_word) {
            errors.push(format!(
                "{function}: {reference} is {:?}, expected a {value_word}",
                part.value
            ));
        }
        let members = nets.members(net);
        let reaches = pin_numbers_named(part, pin_name)
            .into_iter()
            .find(|n| members.contains(&(reference.to_owned(), n.clone())));
        let Some(reached) = reaches else {
            errors.push(format!(
                "{function}: GPIO {gpio} (header pin {}) does not reach {reference} {pin_name}; it reaches {members:?}",
                header_pin(gpio).unwrap_or(0)
            ));
            continue;
        };
        if let Some((next, colour)) = leads_to(function) {
            let other = part.pins.keys().find(|n| **n != reached).cloned();
            let beyond = other.and_then(|n| nets.net(reference, &n));
            let ok = beyond
                .map(|b| nets.members(b).iter().any(|(r, _)| r == next))
                .unwrap_or(false);
            let value_ok = nets
                .parts
                .get(next)
                .is_some_and(|p| p.value.contains(colour));
            if !ok || !value_ok {
                errors.push(format!(
                    "{function}: {reference} does not lead on to {next} {colour}"
                ));
            }
        }
    }

    // The buses the firmware opens: SPI0 CE0 for the reader, I2C1 for the display.
    let buses: [(u8, &str, &str); 6] = [
        (SPI0_PINS[0], "U1", "SDA"),
        (SPI0_PINS[1], "U1", "MISO"),
        (SPI0_PINS[2], "U1", "MOSI"),
        (SPI0_PINS[3], "U1", "SCK"),
        (I2C1_PINS[0], "U2", "SDA"),
        (I2C1_PINS[1], "U2", "SCL"),
    ];
    for (gpio, reference, pin_name) in buses {
        used.insert(gpio);
        let Some(net) = header_net(&nets, gpio, &mut errors) else {
            continue;
        };
        let Some(part) = nets.parts.get(reference) else {
            errors.push(format!("no part {reference}"));
            continue;
        };
        let members = nets.members(net);
        if !pin_numbers_named(part, pin_name)
            .into_iter()
            .any(|n| members.contains(&(reference.to_owned(), n)))
        {
            errors.push(format!(
                "bus GPIO {gpio} does not reach {reference} {pin_name}; it reaches {members:?}"
            ));
        }
    }
    for (reference, what) in [("U1", "MFRC522"), ("U2", "SSD1306")] {
        if !nets
            .parts
            .get(reference)
            .is_some_and(|p| p.value.contains(what))
        {
            errors.push(format!("{reference} is not the {what}"));
        }
    }

    // Both modules run on 3.3 V: 5 V on either would damage the Pi's inputs.
    for (reference, pin_name) in [("U1", "3.3V"), ("U2", "VCC")] {
        let supply = nets.parts.get(reference).and_then(|p| {
            let number = pin_numbers_named(p, pin_name).into_iter().next()?;
            nets.net(reference, &number)
        });
        let names = supply.map(|n| nets.power_names(n)).unwrap_or_default();
        if names != BTreeSet::from(["+3V3".to_owned()]) {
            errors.push(format!(
                "{reference} {pin_name} is on {names:?}, expected +3V3"
            ));
        }
    }

    // A GPIO the firmware does not use must not be wired to anything.
    for gpio in on_header.difference(&used) {
        let Some(net) = header_net(&nets, *gpio, &mut errors) else {
            continue;
        };
        let mut members = nets.members(net);
        members.retain(|(r, _)| r != "J1");
        if !members.is_empty() || !nets.power_names(net).is_empty() {
            errors.push(format!(
                "GPIO {gpio} is wired to {members:?} but the firmware does not use it"
            ));
        }
    }
    errors
}

// ---------------------------------------------------------------------------------------

#[test]
fn the_schematic_wires_every_pin_where_the_firmware_config_says() {
    let errors = compare(&schematic_text(), &default_pins());
    assert!(
        errors.is_empty(),
        "schematics/kiosk.kicad_sch and firmware/config/kiosk.toml disagree (run python3 schematics/generate.py):\n{}",
        errors.join("\n")
    );
}

#[test]
fn a_label_moved_to_another_net_is_caught() {
    // The header's green-LED label renamed to the red LED's net: pin 11 now reaches R2.
    let text = schematic_text();
    let green = "(label \"GPIO17_LED_GREEN\"";
    assert!(
        text.contains(green),
        "the control needs the generated label"
    );
    let moved = text.replacen(green, "(label \"GPIO27_LED_RED\"", 1);
    let errors = compare(&moved, &default_pins());
    assert!(
        errors.iter().any(|e| e.starts_with("led_green:")),
        "{errors:?}"
    );
}

#[test]
fn a_pin_changed_in_the_config_alone_is_caught() {
    let pins = PinConfig {
        led_green: 4,
        ..default_pins()
    };
    assert_eq!(
        pins.validate(),
        Ok(()),
        "the control must be a valid config"
    );
    let errors = compare(&schematic_text(), &pins);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("led_green: GPIO 4 (header pin 7) does not reach R1")),
        "{errors:?}"
    );
    // GPIO 17 is still wired to the LED, and the firmware no longer drives it.
    assert!(
        errors.iter().any(|e| e.starts_with("GPIO 17 is wired to")),
        "{errors:?}"
    );
}

#[test]
fn a_wire_cut_at_the_header_is_caught() {
    // Remove the stub wire from header pin 37 (the reed switch) to its label.
    let nets = netlist(&schematic_text()).unwrap();
    let (_, pin) = &nets.parts["J1"].pins["37"];
    let needle = format!("(wire (pts (xy {} {})", fmt_mm(pin.0), fmt_mm(pin.1));
    let text = schematic_text();
    let start = text.find(&needle).expect("the stub from pin 37");
    let end = start + text[start..].find('\n').unwrap();
    let cut = format!("{}{}", &text[..start], &text[end..]);
    let errors = compare(&cut, &default_pins());
    assert!(
        errors.iter().any(|e| e.starts_with("reed_switch:")),
        "{errors:?}"
    );
}

#[test]
fn a_reader_on_five_volts_is_caught() {
    let text = schematic_text();
    let u1 = text.find("(property \"Reference\" \"U1\"").unwrap();
    let port = u1 + text[u1..].find("(property \"Value\" \"+3V3\"").unwrap();
    let five = format!(
        "{}(property \"Value\" \"+5V\"{}",
        &text[..port],
        &text[port + "(property \"Value\" \"+3V3\"".len()..]
    );
    let errors = compare(&five, &default_pins());
    assert!(
        errors.iter().any(|e| e.starts_with("U1 3.3V is on")),
        "{errors:?}"
    );
}

#[test]
fn every_part_on_the_schematic_is_in_the_bill_of_materials_and_no_other() {
    let nets = netlist(&schematic_text()).unwrap();
    let on_sheet: BTreeSet<String> = nets
        .parts
        .values()
        .filter(|p| !p.power && !p.flag)
        .map(|p| p.reference.clone())
        .collect();
    let bom = std::fs::read_to_string(repo().join("schematics/bom.csv")).unwrap();
    let mut in_bom = BTreeSet::new();
    for line in bom.lines().skip(1) {
        // The first column: "R1, R2" (quoted) or "U1" or "-" for parts off the sheet.
        let refs = match line.strip_prefix('"') {
            Some(rest) => rest.split('"').next().unwrap(),
            None => line.split(',').next().unwrap(),
        };
        for r in refs.split(", ").filter(|r| *r != "-") {
            assert!(in_bom.insert(r.to_owned()), "{r} is in the BOM twice");
        }
    }
    assert_eq!(in_bom, on_sheet);
}

fn fmt_mm(v: i64) -> String {
    let text = format!("{:.4}", v as f64 / 10_000.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[test]
fn the_generated_files_are_up_to_date_with_the_generator() {
    let out = std::process::Command::new("python3")
        .arg(repo().join("schematics/generate.py"))
        .arg("--check")
        .output()
        .expect("python3 (3.11 or later) must be installed to check schematics/");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

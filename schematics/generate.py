#!/usr/bin/env python3
"""Generates the kiosk's wiring documents from the firmware's pin table.

Reads the GPIO numbers from firmware/config/kiosk.toml ([pins]) and writes, next to this
script:

  kiosk.kicad_sch   the schematic, KiCad 6+ format, symbols embedded (opens standalone)
  kiosk.svg         the same drawing rendered for reading and printing (A3 landscape)
  pins.md           the pin table: function, GPIO, header pin, net, part pin
  bom.csv           the bill of materials
  README.md         the BOM and pin tables between their BEGIN/END markers

Every output is a pure function of the config and this script, so running it twice gives
the same bytes. `--check` writes nothing and exits 1 if a committed file differs from what
would be generated (CI runs it).

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG = ROOT / "firmware" / "config" / "kiosk.toml"

# KiCad's schematic grid is 50 mil; everything sits on it so wires meet pins exactly.
GRID = 1.27


def g(n: float) -> float:
    """n grid steps, in millimetres."""
    return round(n * GRID, 4)


# ---------------------------------------------------------------------------------------
# The Raspberry Pi's 40-pin header (the same on every 40-pin model, Zero 2 W to Pi 5).

HEADER_NAMES = {
    1: "3V3", 2: "5V", 3: "GPIO2 SDA1", 4: "5V", 5: "GPIO3 SCL1", 6: "GND",
    7: "GPIO4", 8: "GPIO14 TXD", 9: "GND", 10: "GPIO15 RXD", 11: "GPIO17",
    12: "GPIO18 PWM0", 13: "GPIO27", 14: "GND", 15: "GPIO22", 16: "GPIO23", 17: "3V3",
    18: "GPIO24", 19: "GPIO10 MOSI", 20: "GND", 21: "GPIO9 MISO", 22: "GPIO25",
    23: "GPIO11 SCLK", 24: "GPIO8 CE0", 25: "GND", 26: "GPIO7 CE1", 27: "GPIO0 ID_SD",
    28: "GPIO1 ID_SC", 29: "GPIO5", 30: "GND", 31: "GPIO6", 32: "GPIO12 PWM0",
    33: "GPIO13 PWM1", 34: "GND", 35: "GPIO19", 36: "GPIO16", 37: "GPIO26", 38: "GPIO20",
    39: "GND", 40: "GPIO21",
}


def header_pin(gpio: int) -> int:
    for pin, name in HEADER_NAMES.items():
        if name.split()[0] == f"GPIO{gpio}":
            return pin
    raise SystemExit(f"GPIO {gpio} is not on the 40-pin header")


def header_power_net(pin: int) -> str | None:
    name = HEADER_NAMES[pin]
    return {"3V3": "+3V3", "5V": "+5V", "GND": "GND"}.get(name)


# What each [pins] entry drives, and where its net lands. Buses are fixed by the Pi.
@dataclass(frozen=True)
class Function:
    key: str  # the [pins] key in kiosk.toml
    net: str  # net name without the GPIO prefix
    part: str  # reference of the part the GPIO wires to
    part_pin: str  # that part's pin number
    what: str  # for people


FUNCTIONS = [
    Function("reader_rst", "RC522_RST", "U1", "7", "MFRC522 reset (held high to run)"),
    Function("led_green", "LED_GREEN", "R1", "1", "green LED via 330 ohm"),
    Function("led_red", "LED_RED", "R2", "1", "red LED via 330 ohm"),
    Function("buzzer", "BUZZER", "R3", "1", "buzzer driver Q1 base via 1 k"),
    Function("button_ok", "BTN_OK", "SW1", "1", "OK button to GND (internal pull-up)"),
    Function("button_cancel", "BTN_CANCEL", "SW2", "1", "Cancel button to GND (internal pull-up)"),
    Function("lock_relay", "LOCK", "R5", "1", "cabinet lock MOSFET Q2 gate via 100 ohm"),
    Function("reed_switch", "DOOR", "SW3", "1", "door reed switch to GND (internal pull-up)"),
]

BUSES = [
    # (gpio, net, part, part pin, what)
    (8, "SPI0_CE0", "U1", "1", "MFRC522 SDA (chip select)"),
    (11, "SPI0_SCLK", "U1", "2", "MFRC522 SCK"),
    (10, "SPI0_MOSI", "U1", "3", "MFRC522 MOSI"),
    (9, "SPI0_MISO", "U1", "4", "MFRC522 MISO"),
    (2, "I2C1_SDA", "U2", "4", "SSD1306 SDA"),
    (3, "I2C1_SCL", "U2", "3", "SSD1306 SCL"),
]


def read_pins(path: Path) -> dict[str, int]:
    with path.open("rb") as f:
        pins = tomllib.load(f)["pins"]
    keys = {f.key for f in FUNCTIONS}
    if set(pins) != keys:
        raise SystemExit(
            f"{path}: [pins] has {sorted(pins)}, the schematic knows {sorted(keys)}; "
            "teach generate.py the new function"
        )
    return {k: int(v) for k, v in pins.items()}


# ---------------------------------------------------------------------------------------
# Symbols. Library coordinates have y up (KiCad's convention); a pin's (x, y) is the end a
# wire connects to, and its angle points from that end into the body.


@dataclass
class Pin:
    number: str
    name: str
    x: float
    y: float
    angle: int
    length: float
    kind: str = "passive"
    hidden: bool = False


@dataclass
class LibSymbol:
    name: str
    ref: str
    pins: list[Pin]
    graphics: list[tuple]  # ("rect", x1, y1, x2, y2) | ("poly", [(x, y)...], fill) | ("circle", x, y, r)
    power: bool = False
    show_pin_names: bool = True
    show_pin_numbers: bool = True
    name_offset: float = 0.508
    ref_at: tuple[float, float] = (0.0, 0.0)  # screen offset from the instance origin
    value_at: tuple[float, float] = (0.0, 0.0)

    @property
    def lib_id(self) -> str:
        return "consentcam:" + self.name


def lib_symbols() -> dict[str, LibSymbol]:
    syms: dict[str, LibSymbol] = {}

    # Raspberry Pi 40-pin header: odd pins on the left, even on the right, as on the board.
    pins = []
    for n, name in HEADER_NAMES.items():
        row = (n - 1) // 2
        kind = "passive" if header_power_net(n) else "bidirectional"
        if n % 2:
            pins.append(Pin(str(n), name, -22.86, -row * 2.54, 0, 5.08, kind))
        else:
            pins.append(Pin(str(n), name, 22.86, -row * 2.54, 180, 5.08, kind))
    syms["RPi_GPIO_40"] = LibSymbol(
        "RPi_GPIO_40", "J", pins, [("rect", -17.78, 2.54, 17.78, -50.8)],
        ref_at=(0, -5.08), value_at=(0, -3.048 + 0.0),
    )

    # MFRC522 module (the common blue RC522 board), its 8-pin header in board order.
    rc522 = ["SDA", "SCK", "MOSI", "MISO", "IRQ", "GND", "RST", "3.3V"]
    syms["RC522_Module"] = LibSymbol(
        "RC522_Module", "U",
        [Pin(str(i + 1), n, -12.7, -i * 2.54, 0, 5.08,
             "power_in" if n in ("GND", "3.3V") else ("output" if n in ("MISO", "IRQ") else "input"))
         for i, n in enumerate(rc522)],
        [("rect", -7.62, 2.54, 7.62, -20.32)],
        ref_at=(0, -5.08), value_at=(0, -3.048),
    )

    # SSD1306 128x64 OLED module, 4-pin I2C (GND, VCC, SCL, SDA: check your board's order).
    oled = ["GND", "VCC", "SCL", "SDA"]
    syms["SSD1306_I2C_Module"] = LibSymbol(
        "SSD1306_I2C_Module", "U",
        [Pin(str(i + 1), n, -12.7, -i * 2.54, 0, 5.08,
             "power_in" if n in ("GND", "VCC") else "bidirectional")
         for i, n in enumerate(oled)],
        [("rect", -7.62, 2.54, 7.62, -10.16)],
        ref_at=(0, -5.08), value_at=(0, -3.048),
    )

    # Resistor, horizontal.
    syms["R"] = LibSymbol(
        "R", "R",
        [Pin("1", "~", -3.81, 0, 0, 1.27), Pin("2", "~", 3.81, 0, 180, 1.27)],
        [("rect", -2.54, 1.016, 2.54, -1.016)],
        show_pin_names=False, show_pin_numbers=False,
        ref_at=(0, -2.032), value_at=(0, 3.302),
    )

    # LED, horizontal: anode left, cathode right.
    syms["LED"] = LibSymbol(
        "LED", "D",
        [Pin("2", "A", -3.81, 0, 0, 2.54), Pin("1", "K", 3.81, 0, 180, 2.54)],
        [
            ("poly", [(-1.27, 1.27), (-1.27, -1.27), (1.27, 0), (-1.27, 1.27)], False),
            ("poly", [(1.27, 1.27), (1.27, -1.27)], False),
            ("poly", [(0, 1.778), (1.016, 2.794)], False),
            ("poly", [(0.762, 1.524), (1.778, 2.54)], False),
        ],
        show_pin_names=False, show_pin_numbers=False,
        ref_at=(0, -3.81), value_at=(0, 3.302),
    )

    # Diode, vertical: cathode up (towards the supply), anode down.
    syms["D_Vertical"] = LibSymbol(
        "D_Vertical", "D",
        [Pin("1", "K", 0, 3.81, 270, 2.54), Pin("2", "A", 0, -3.81, 90, 2.54)],
        [
            ("poly", [(-1.27, -1.27), (1.27, -1.27), (0, 1.27), (-1.27, -1.27)], False),
            ("poly", [(-1.27, 1.27), (1.27, 1.27)], False),
        ],
        show_pin_names=False, show_pin_numbers=False,
        ref_at=(2.54, -0.762), value_at=(2.54, 1.778),
    )

    # Buzzer, vertical: + up.
    syms["Buzzer"] = LibSymbol(
        "Buzzer", "BZ",
        [Pin("1", "+", 0, 3.81, 270, 1.27), Pin("2", "-", 0, -3.81, 90, 1.27)],
        [("rect", -2.54, 2.54, 2.54, -2.54), ("circle", 0, 0, 1.524),
         ("poly", [(-0.635, 3.175), (-1.905, 3.175)], False),
         ("poly", [(-1.27, 3.81), (-1.27, 2.54)], False)],
        show_pin_names=False, show_pin_numbers=False,
        ref_at=(-3.81, -0.762), value_at=(-3.81, 1.778),
    )

    # Solenoid (cabinet lock), vertical: a coil.
    coil = [("rect", -1.524, 2.54, 1.524, -2.54),
            ("poly", [(-1.524, -2.54), (1.524, 2.54)], False)]
    syms["Solenoid"] = LibSymbol(
        "Solenoid", "L",
        [Pin("1", "1", 0, 3.81, 270, 1.27), Pin("2", "2", 0, -3.81, 90, 1.27)],
        coil, show_pin_names=False, show_pin_numbers=False,
        ref_at=(-3.302, -0.762), value_at=(-3.302, 1.778),
    )

    # NPN transistor (TO-92, BC337 order C B E): base left, collector up, emitter down.
    bjt = [
        ("poly", [(-0.508, 1.905), (-0.508, -1.905)], False),
        ("poly", [(-2.54, 0), (-0.508, 0)], False),
        ("poly", [(-0.508, 0.635), (2.54, 2.54)], False),
        ("poly", [(-0.508, -0.635), (2.54, -2.54)], False),
        ("poly", [(1.27, -1.778), (2.54, -2.54), (1.778, -1.27), (1.27, -1.778)], True),
        ("circle", 0.762, 0, 2.794),
    ]
    syms["Q_NPN_CBE"] = LibSymbol(
        "Q_NPN_CBE", "Q",
        [Pin("2", "B", -5.08, 0, 0, 2.54), Pin("1", "C", 2.54, 5.08, 270, 2.54),
         Pin("3", "E", 2.54, -5.08, 90, 2.54)],
        bjt, show_pin_names=False, show_pin_numbers=False,
        ref_at=(5.08, -0.762), value_at=(5.08, 1.778),
    )

    # N-channel MOSFET (TO-220, G D S): gate left, drain up, source down.
    fet = [
        ("poly", [(-2.54, 0), (-1.27, 0)], False),
        ("poly", [(-1.27, 1.905), (-1.27, -1.905)], False),
        ("poly", [(-0.508, 1.905), (-0.508, 1.143)], False),
        ("poly", [(-0.508, 0.381), (-0.508, -0.381)], False),
        ("poly", [(-0.508, -1.143), (-0.508, -1.905)], False),
        ("poly", [(-0.508, 1.524), (2.54, 1.524), (2.54, 2.54)], False),
        ("poly", [(-0.508, -1.524), (2.54, -1.524), (2.54, -2.54)], False),
        ("poly", [(-0.508, 0), (2.54, 0), (2.54, -1.524)], False),
        ("poly", [(0.254, 0), (1.27, 0.508), (1.27, -0.508), (0.254, 0)], True),
        ("circle", 0.762, 0, 2.794),
    ]
    syms["Q_NMOS_GDS"] = LibSymbol(
        "Q_NMOS_GDS", "Q",
        [Pin("1", "G", -5.08, 0, 0, 2.54), Pin("2", "D", 2.54, 5.08, 270, 2.54),
         Pin("3", "S", 2.54, -5.08, 90, 2.54)],
        fet, show_pin_names=False, show_pin_numbers=False,
        ref_at=(5.08, -0.762), value_at=(5.08, 1.778),
    )

    # Push button and reed switch, horizontal.
    button = [
        ("circle", -2.032, 0, 0.508), ("circle", 2.032, 0, 0.508),
        ("poly", [(-2.54, 1.27), (2.54, 1.27)], False),
        ("poly", [(0, 1.27), (0, 2.794)], False),
    ]
    syms["SW_Push"] = LibSymbol(
        "SW_Push", "SW",
        [Pin("1", "1", -5.08, 0, 0, 2.54), Pin("2", "2", 5.08, 0, 180, 2.54)],
        button, show_pin_names=False, show_pin_numbers=False,
        ref_at=(0, -4.064), value_at=(0, 2.286),
    )
    reed = [
        ("rect", -3.048, 1.524, 3.048, -1.524),
        ("poly", [(-2.54, 0), (0, 0), (1.778, 0.762)], False),
        ("poly", [(1.27, 0), (2.54, 0)], False),
    ]
    syms["SW_Reed"] = LibSymbol(
        "SW_Reed", "SW",
        [Pin("1", "1", -5.08, 0, 0, 2.54), Pin("2", "2", 5.08, 0, 180, 2.54)],
        reed, show_pin_names=False, show_pin_numbers=False,
        ref_at=(0, -2.54), value_at=(0, 3.556),
    )

    # Two-way connector (DC input), pins on the left.
    syms["Conn_01x02"] = LibSymbol(
        "Conn_01x02", "J",
        [Pin("1", "+", -5.08, 0, 0, 3.81), Pin("2", "-", -5.08, -2.54, 0, 3.81)],
        [("rect", -1.27, 1.27, 1.27, -3.81)],
        show_pin_names=False, show_pin_numbers=True,
        ref_at=(0, -2.54), value_at=(0, 6.35),
    )

    # Power ports: the Value is the net name.
    for net in ("+3V3", "+5V", "+12V"):
        syms[net] = LibSymbol(
            net, "#PWR",
            [Pin("1", net, 0, 0, 90, 0, "power_in", hidden=True)],
            [("poly", [(0, 0), (0, 1.27)], False),
             ("poly", [(-0.762, 1.27), (0.762, 1.27), (0, 2.286), (-0.762, 1.27)], True)],
            power=True, ref_at=(0, 6.35), value_at=(0, -3.302),
        )
    syms["GND"] = LibSymbol(
        "GND", "#PWR",
        [Pin("1", "GND", 0, 0, 270, 0, "power_in", hidden=True)],
        [("poly", [(0, 0), (0, -1.27), (1.27, -1.27), (0, -2.54), (-1.27, -1.27), (0, -1.27)], False)],
        power=True, ref_at=(0, 6.35), value_at=(0, 4.064),
    )
    # Marks a net as supplied from outside the sheet (the Pi's header, the 12 V input), so
    # the electrical rules check knows its power pins are driven.
    syms["PWR_FLAG"] = LibSymbol(
        "PWR_FLAG", "#FLG",
        [Pin("1", "pwr", 0, 0, 90, 0, "power_out")],
        [("poly", [(0, 0), (0, 1.27), (-1.016, 1.905), (0, 2.54), (1.016, 1.905), (0, 1.27)], False)],
        power=True, ref_at=(0, 6.35), value_at=(0, -3.81),
    )
    return syms


# ---------------------------------------------------------------------------------------
# The sheet.


def stable_uuid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "consentcam/schematics/" + "/".join(map(str, parts))))


def rotate(x: float, y: float, angle: int) -> tuple[float, float]:
    a = math.radians(angle)
    return (x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a))


def snap(v: float) -> float:
    return round(v, 4) + 0.0


@dataclass
class Instance:
    sym: LibSymbol
    ref: str
    value: str
    x: float
    y: float
    angle: int = 0
    footprint: str = ""
    datasheet: str = ""

    def to_screen(self, lx: float, ly: float) -> tuple[float, float]:
        rx, ry = rotate(lx, ly, self.angle)
        return (snap(self.x + rx), snap(self.y - ry))

    def pin(self, number: str) -> tuple[float, float]:
        for p in self.sym.pins:
            if p.number == number:
                return self.to_screen(p.x, p.y)
        raise KeyError(f"{self.ref} has no pin {number}")

    def field(self, which: str) -> tuple[float, float]:
        """Where the reference or value text sits (it turns with the symbol)."""
        fx, fy = self.sym.ref_at if which == "ref" else self.sym.value_at
        return self.to_screen(fx, -fy)

    def outward(self, number: str) -> tuple[float, float]:
        """Unit step (screen) pointing away from the body at pin `number`."""
        p = next(p for p in self.sym.pins if p.number == number)
        dx, dy = rotate(-math.cos(math.radians(p.angle)), -math.sin(math.radians(p.angle)), self.angle)
        return (round(dx), round(-dy))


@dataclass
class Sheet:
    syms: dict[str, LibSymbol]
    instances: list[Instance] = field(default_factory=list)
    wires: list[tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=list)
    labels: list[tuple[str, float, float, int]] = field(default_factory=list)
    junctions: list[tuple[float, float]] = field(default_factory=list)
    no_connects: list[tuple[float, float]] = field(default_factory=list)
    notes: list[tuple[str, float, float, float]] = field(default_factory=list)
    power_count: int = 0
    flag_count: int = 0

    def add(self, sym: str, ref: str, value: str, x: float, y: float, angle: int = 0,
            footprint: str = "", datasheet: str = "") -> Instance:
        inst = Instance(self.syms[sym], ref, value, x, y, angle, footprint, datasheet)
        self.instances.append(inst)
        return inst

    def wire(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        self.wires.append(((snap(a[0]), snap(a[1])), (snap(b[0]), snap(b[1]))))

    def power(self, net: str, at: tuple[float, float], towards: tuple[int, int] | None = None) -> None:
        """A power port at `at`; `towards` (a screen direction) turns its symbol that way
        (default: GND down, supplies up). Its one pin sits on the origin, so turning it
        moves no connection."""
        self.power_count += 1
        angle = 0
        if towards is not None:
            down = {(0, 1): 0, (-1, 0): 270, (1, 0): 90, (0, -1): 180}
            up = {(0, -1): 0, (-1, 0): 90, (1, 0): 270, (0, 1): 180}
            angle = (down if net == "GND" else up)[towards]
        self.add(net, f"#PWR{self.power_count:02d}", net, at[0], at[1], angle)

    def flag(self, at: tuple[float, float], angle: int = 0) -> None:
        """A PWR_FLAG on the net at `at` (angle 0 points up, 180 down)."""
        self.flag_count += 1
        self.add("PWR_FLAG", f"#FLG{self.flag_count:02d}", "PWR_FLAG", at[0], at[1], angle)

    def stub(self, inst: Instance, pin: str, length: float = 5.08) -> tuple[float, float]:
        """A short wire out of a pin; returns its far end."""
        x, y = inst.pin(pin)
        dx, dy = inst.outward(pin)
        end = (snap(x + dx * length), snap(y + dy * length))
        self.wire((x, y), end)
        return end

    def label(self, inst: Instance, pin: str, net: str, length: float = 5.08) -> None:
        end = self.stub(inst, pin, length)
        dx, _ = inst.outward(pin)
        self.labels.append((net, end[0], end[1], 180 if dx < 0 else 0))

    def power_at(self, inst: Instance, pin: str, net: str, length: float = 2.54,
                 turn: bool = False) -> None:
        end = self.stub(inst, pin, length)
        self.power(net, end, inst.outward(pin) if turn else None)


def build(pins: dict[str, int]) -> Sheet:
    s = Sheet(lib_symbols())
    gpio_net = {}
    for f in FUNCTIONS:
        gpio_net[pins[f.key]] = f"GPIO{pins[f.key]}_{f.net}"
    for gpio, net, *_ in BUSES:
        gpio_net[gpio] = f"GPIO{gpio}_{net}"

    # J1: the Pi's header.
    j1 = s.add("RPi_GPIO_40", "J1", "Raspberry Pi 40-pin header", g(60), g(44),
               footprint="Connector_PinSocket_2.54mm:PinSocket_2x20_P2.54mm_Vertical")
    for n in HEADER_NAMES:
        net = header_power_net(n)
        gpio = None
        if HEADER_NAMES[n].startswith("GPIO"):
            gpio = int(HEADER_NAMES[n].split()[0][4:])
        if net:
            s.power_at(j1, str(n), net, 2.54, turn=True)
            # The Pi supplies these nets: flag each once, where the flag has room.
            if n in (1, 2):
                s.flag(s.instances[-1].pin("1"))
            if n == 39:
                s.flag(s.instances[-1].pin("1"), 180)
        elif gpio in gpio_net:
            s.label(j1, str(n), gpio_net[gpio])
        else:
            s.no_connects.append(j1.pin(str(n)))

    # U1: MFRC522 reader on SPI0.
    u1 = s.add("RC522_Module", "U1", "MFRC522 RFID module", g(140), g(36))
    rst = next(f for f in FUNCTIONS if f.key == "reader_rst")
    for gpio, net, part, part_pin, _ in BUSES:
        if part == "U1":
            s.label(u1, part_pin, gpio_net[gpio])
    s.label(u1, rst.part_pin, gpio_net[pins[rst.key]])
    s.no_connects.append(u1.pin("5"))  # IRQ: the firmware polls
    s.power_at(u1, "6", "GND", 2.54, turn=True)
    s.power_at(u1, "8", "+3V3", 2.54, turn=True)

    # U2: SSD1306 display on I2C1.
    u2 = s.add("SSD1306_I2C_Module", "U2", "SSD1306 128x64 OLED, I2C 0x3C", g(140), g(68))
    s.power_at(u2, "1", "GND", 2.54, turn=True)
    s.power_at(u2, "2", "+3V3", 2.54, turn=True)
    for gpio, net, part, part_pin, _ in BUSES:
        if part == "U2":
            s.label(u2, part_pin, gpio_net[gpio])

    def fn(key: str) -> str:
        return gpio_net[pins[key]]

    # LEDs: GPIO -> 330 ohm -> LED -> GND.
    for (key, r, d, colour, y) in (("led_green", "R1", "D1", "green", g(88)),
                                   ("led_red", "R2", "D2", "red", g(96))):
        res = s.add("R", r, "330", g(124), y,
                    footprint="Resistor_THT:R_Axial_DIN0207_L6.3mm_D2.5mm_P7.62mm_Horizontal")
        led = s.add("LED", d, f"LED {colour}", g(136), y,
                    footprint="LED_THT:LED_D5.0mm")
        s.label(res, "1", fn(key))
        s.wire(res.pin("2"), led.pin("2"))
        s.power_at(led, "1", "GND", 6.35)

    # Buzzer: GPIO -> 1 k -> NPN base (10 k pull-down keeps it quiet while the Pi boots);
    # an active buzzer (the firmware switches it on and off, it makes no tone itself) from
    # +5V to the collector, a diode across it in case a magnetic one is fitted.
    yb = g(122)
    r3 = s.add("R", "R3", "1k", g(124), yb)
    q1 = s.add("Q_NPN_CBE", "Q1", "BC337-40", g(134), yb, footprint="Package_TO_SOT_THT:TO-92_Inline")
    s.label(r3, "1", fn("buzzer"))
    base_node = (g(129), yb)
    s.wire(r3.pin("2"), base_node)
    s.wire(base_node, q1.pin("2"))
    s.junctions.append(base_node)
    r4 = s.add("R", "R4", "10k", g(129), yb + 5.08, angle=90)
    top, bottom = sorted((r4.pin("1"), r4.pin("2")), key=lambda p: p[1])
    s.wire(base_node, top)
    s.power("GND", bottom)
    col = q1.pin("1")
    bz = s.add("Buzzer", "BZ1", "Active piezo buzzer", col[0], col[1] - 6.35)
    s.wire(bz.pin("2"), col)
    d3 = s.add("D_Vertical", "D3", "1N4148", col[0] + g(6), col[1] - 6.35)
    s.wire(bz.pin("1"), d3.pin("1"))
    s.wire(bz.pin("2"), d3.pin("2"))
    s.junctions += [bz.pin("1"), bz.pin("2")]
    s.power("+5V", bz.pin("1"))
    s.power("GND", q1.pin("3"))

    # Buttons: GPIO -> switch -> GND, internal pull-ups.
    for (key, ref, value, y) in (("button_ok", "SW1", "OK button", g(140)),
                                 ("button_cancel", "SW2", "Cancel button", g(150))):
        sw = s.add("SW_Push", ref, value, g(126), y, footprint="Button_Switch_THT:SW_PUSH_6mm")
        s.label(sw, "1", fn(key))
        s.power_at(sw, "2", "GND", 5.08)

    # Optional cabinet lock: GPIO -> 100 ohm -> logic-level MOSFET (10 k gate pull-down),
    # 12 V solenoid from +12V to the drain with a flyback diode across it; reed switch on
    # the door to GND.
    yl = g(46)
    r5 = s.add("R", "R5", "100", g(206), yl)
    q2 = s.add("Q_NMOS_GDS", "Q2", "IRLB8721PBF", g(216), yl, footprint="Package_TO_SOT_THT:TO-220-3_Vertical")
    s.label(r5, "1", fn("lock_relay"))
    gate_node = (g(211), yl)
    s.wire(r5.pin("2"), gate_node)
    s.wire(gate_node, q2.pin("1"))
    s.junctions.append(gate_node)
    r6 = s.add("R", "R6", "10k", g(211), yl + 5.08, angle=90)
    top, bottom = sorted((r6.pin("1"), r6.pin("2")), key=lambda p: p[1])
    s.wire(gate_node, top)
    s.power("GND", bottom)
    drain = q2.pin("2")
    l1 = s.add("Solenoid", "L1", "12 V solenoid lock", drain[0], drain[1] - 6.35)
    s.wire(l1.pin("2"), drain)
    d4 = s.add("D_Vertical", "D4", "1N4007", drain[0] + g(6), drain[1] - 6.35)
    s.wire(l1.pin("1"), d4.pin("1"))
    s.wire(l1.pin("2"), d4.pin("2"))
    s.junctions += [l1.pin("1"), l1.pin("2")]
    s.power("+12V", l1.pin("1"))
    s.power("GND", q2.pin("3"))

    j2 = s.add("Conn_01x02", "J2", "12 V DC in", g(244), g(40),
               footprint="TerminalBlock_Phoenix:TerminalBlock_Phoenix_MKDS-1,5-2-5.08_1x02_P5.08mm_Horizontal")
    s.power_at(j2, "1", "+12V", 2.54, turn=True)
    s.flag(s.instances[-1].pin("1"))
    s.power_at(j2, "2", "GND", 2.54)

    sw3 = s.add("SW_Reed", "SW3", "Door reed (NO)", g(206), g(66))
    s.label(sw3, "1", fn("reed_switch"))
    s.power_at(sw3, "2", "GND", 7.62)

    s.notes = [
        ("consentcam kiosk: Raspberry Pi wiring", g(8), g(10), 3.0),
        ("Badge reader (SPI0)", g(112), g(24), 2.0),
        ("Display (I2C1)", g(112), g(58), 2.0),
        ("Status LEDs", g(112), g(82), 2.0),
        ("Buzzer", g(112), g(104), 2.0),
        ("Buttons", g(112), g(134), 2.0),
        ("Optional cabinet lock", g(176), g(24), 2.0),
        ("GPIO numbers come from firmware/config/kiosk.toml; regenerate with schematics/generate.py", g(8), g(13), 1.5),
        ("Power the Pi from its own USB-C supply. The 12 V lock supply shares only GND with the Pi.", g(180), g(84), 1.5),
        ("Everything on the header is 3.3 V logic: never connect 5 V or 12 V to a GPIO.", g(180), g(87), 1.5),
        ("Cabinet lock (R5, R6, Q2, L1, D4, J2, SW3) is optional: without it leave GPIO", g(180), g(90), 1.5),
        ("lock_relay unconnected and fit SW3 anyway or leave reed_switch open (reads door open).", g(180), g(93), 1.5),
        ("MFRC522 IRQ is not used (the reader is polled). Check the OLED's pin order (GND VCC SCL SDA).", g(180), g(96), 1.5),
    ]
    return s


# ---------------------------------------------------------------------------------------
# KiCad writer.


def q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def num(v: float) -> str:
    v = round(v, 4) + 0.0
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


STROKE = "(stroke (width 0) (type default) (color 0 0 0 0))"


def font(size: float = 1.27) -> str:
    return f"(font (size {num(size)} {num(size)}))"


def lib_symbol_text(sym: LibSymbol, name: str) -> str:
    out = [f"    (symbol {q(name)}"]
    if sym.power:
        out[0] += " (power)"
    if not sym.show_pin_numbers or sym.power:
        out[0] += " (pin_numbers hide)"
    if sym.power:
        out[0] += " (pin_names (offset 0) hide)"
    elif not sym.show_pin_names:
        out[0] += " (pin_names (offset 0) hide)"
    else:
        out[0] += f" (pin_names (offset {num(sym.name_offset)}))"
    out[0] += " (in_bom yes) (on_board yes)"
    hidden = " hide" if sym.power else ""
    out.append(f"      (property \"Reference\" {q(sym.ref)} (id 0) (at 0 {num(-sym.ref_at[1])} 0)"
               f" (effects {font()}{hidden}))")
    out.append(f"      (property \"Value\" {q(sym.name)} (id 1) (at 0 {num(-sym.value_at[1])} 0)"
               f" (effects {font()}))")
    out.append(f"      (property \"Footprint\" \"\" (id 2) (at 0 0 0) (effects {font()} hide))")
    out.append(f"      (property \"Datasheet\" \"\" (id 3) (at 0 0 0) (effects {font()} hide))")
    out.append(f"      (symbol {q(sym.name + '_0_1')}")
    for gr in sym.graphics:
        if gr[0] == "rect":
            _, x1, y1, x2, y2 = gr
            out.append(f"        (rectangle (start {num(x1)} {num(y1)}) (end {num(x2)} {num(y2)})"
                       f" (stroke (width 0.254) (type default) (color 0 0 0 0)) (fill (type background)))")
        elif gr[0] == "poly":
            pts = " ".join(f"(xy {num(x)} {num(y)})" for x, y in gr[1])
            fill = "outline" if gr[2] else "none"
            out.append(f"        (polyline (pts {pts}) (stroke (width 0.254) (type default) (color 0 0 0 0))"
                       f" (fill (type {fill})))")
        elif gr[0] == "circle":
            _, x, y, r = gr
            out.append(f"        (circle (center {num(x)} {num(y)}) (radius {num(r)})"
                       f" (stroke (width 0.254) (type default) (color 0 0 0 0)) (fill (type none)))")
    out.append("      )")
    out.append(f"      (symbol {q(sym.name + '_1_1')}")
    for p in sym.pins:
        hide = " hide" if p.hidden else ""
        out.append(f"        (pin {p.kind} line (at {num(p.x)} {num(p.y)} {p.angle}) (length {num(p.length)}){hide}"
                   f" (name {q(p.name)} (effects {font()})) (number {q(p.number)} (effects {font()})))")
    out.append("      )")
    out.append("    )")
    return "\n".join(out)


def kicad_text(s: Sheet) -> str:
    root = stable_uuid("root")
    out = [
        "(kicad_sch (version 20211123) (generator eeschema)",
        "",
        f"  (uuid {root})",
        "",
        '  (paper "A3")',
        "",
        "  (title_block",
        '    (title "consentcam kiosk")',
        '    (rev "1")',
        '    (company "consentcam")',
        '    (comment 1 "Generated by schematics/generate.py from firmware/config/kiosk.toml")',
        '    (comment 2 "Edit the config or the generator, not this file, then run the generator")',
        "  )",
        "",
        "  (lib_symbols",
    ]
    used = []
    for inst in s.instances:
        if inst.sym not in used:
            used.append(inst.sym)
    for sym in sorted(used, key=lambda sym: sym.lib_id):
        out.append(lib_symbol_text(sym, sym.lib_id))
    out.append("  )")
    out.append("")
    for x, y in s.junctions:
        out.append(f"  (junction (at {num(x)} {num(y)}) (diameter 0) (color 0 0 0 0)"
                   f" (uuid {stable_uuid('junction', x, y)}))")
    for x, y in s.no_connects:
        out.append(f"  (no_connect (at {num(x)} {num(y)}) (uuid {stable_uuid('nc', x, y)}))")
    out.append("")
    for (a, b) in s.wires:
        out.append(f"  (wire (pts (xy {num(a[0])} {num(a[1])}) (xy {num(b[0])} {num(b[1])})) {STROKE}"
                   f" (uuid {stable_uuid('wire', a, b)}))")
    out.append("")
    for text, x, y, size in s.notes:
        out.append(f"  (text {q(text)} (at {num(x)} {num(y)} 0) (effects {font(size)} (justify left bottom))"
                   f" (uuid {stable_uuid('text', text)}))")
    for net, x, y, angle in s.labels:
        justify = "right bottom" if angle == 180 else "left bottom"
        out.append(f"  (label {q(net)} (at {num(x)} {num(y)} {angle}) (effects {font()} (justify {justify}))"
                   f" (uuid {stable_uuid('label', net, x, y)}))")
    out.append("")
    for inst in s.instances:
        sym = inst.sym
        u = stable_uuid("symbol", inst.ref)
        hide = " hide" if sym.power else ""
        (rx, ry), (vx, vy) = inst.field("ref"), inst.field("value")
        out.append(f"  (symbol (lib_id {q(sym.lib_id)}) (at {num(inst.x)} {num(inst.y)} {inst.angle}) (unit 1)")
        out.append("    (in_bom yes) (on_board yes)")
        out.append(f"    (uuid {u})")
        out.append(f"    (property \"Reference\" {q(inst.ref)} (id 0) (at {num(rx)} {num(ry)} 0) (effects {font()}{hide}))")
        out.append(f"    (property \"Value\" {q(inst.value)} (id 1) (at {num(vx)} {num(vy)} 0) (effects {font()}))")
        out.append(f"    (property \"Footprint\" {q(inst.footprint)} (id 2) (at {num(inst.x)} {num(inst.y)} 0) (effects {font()} hide))")
        out.append(f"    (property \"Datasheet\" {q(inst.datasheet)} (id 3) (at {num(inst.x)} {num(inst.y)} 0) (effects {font()} hide))")
        for p in sym.pins:
            out.append(f"    (pin {q(p.number)} (uuid {stable_uuid('pin', inst.ref, p.number)}))")
        out.append("  )")
    out.append("")
    out.append("  (sheet_instances")
    out.append('    (path "/" (page "1"))')
    out.append("  )")
    out.append("")
    out.append("  (symbol_instances")
    for inst in sorted(s.instances, key=lambda i: i.ref):
        out.append(f"    (path \"/{stable_uuid('symbol', inst.ref)}\"")
        out.append(f"      (reference {q(inst.ref)}) (unit 1) (value {q(inst.value)}) (footprint {q(inst.footprint)})")
        out.append("    )")
    out.append("  )")
    out.append(")")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------
# SVG renderer: the same geometry, drawn for people.


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def svg_text(x: float, y: float, text: str, size: float = 1.8, anchor: str = "start",
             weight: str = "normal", colour: str = "#000") -> str:
    w = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}" text-anchor="{anchor}"'
            f' fill="{colour}"{w}>{esc(text)}</text>')


def svg_text_from(s: Sheet, rows: list[list[str]], x: float, y: float, widths: list[float],
                  title: str) -> list[str]:
    out = [svg_text(x, y, title, 2.4, weight="bold")]
    y += 4
    for i, row in enumerate(rows):
        cx = x
        for cell, w in zip(row, widths):
            out.append(svg_text(cx, y, cell, 1.9, weight="bold" if i == 0 else "normal"))
            cx += w
        if i == 0:
            out.append(f'<line x1="{num(x)}" y1="{num(y + 0.8)}" x2="{num(x + sum(widths))}" y2="{num(y + 0.8)}"'
                       ' stroke="#000" stroke-width="0.15"/>')
        y += 2.9
    return out


TABLE_AT = (g(8), g(100))
TABLE_WIDTHS = [14, 11, 36, 62]


def drawing_extent(s: Sheet, table: list[list[str]]) -> tuple[float, float, float, float]:
    """The drawing's bounding box (text widths estimated), to crop the picture to."""
    xs: list[float] = []
    ys: list[float] = []
    for a, b in s.wires:
        xs += [a[0], b[0]]
        ys += [a[1], b[1]]
    for inst in s.instances:
        for gr in inst.sym.graphics:
            pts = gr[1] if gr[0] == "poly" else [(gr[1], gr[2])] + ([(gr[3], gr[4])] if gr[0] == "rect" else [])
            for x, y in pts:
                px, py = inst.to_screen(x, y)
                xs.append(px)
                ys.append(py)
        for which in ("ref", "value"):
            fx, fy = inst.field(which)
            ys.append(fy)
            xs += [fx - len(inst.value), fx + len(inst.value)]
    for net, x, y, angle in s.labels:
        xs.append(x + (-1 if angle == 180 else 1) * len(net) * 1.25)
    for text, x, y, size in s.notes:
        xs += [x, x + len(text) * size * 0.62]
        ys += [y - size, y]
    tx, ty = TABLE_AT
    xs.append(tx + sum(TABLE_WIDTHS))
    ys.append(ty + 4 + 2.9 * len(table))
    return (min(xs), min(ys), max(xs), max(ys))


def svg(s: Sheet, table: list[list[str]]) -> str:
    x0, y0, x1, y1 = drawing_extent(s, table)
    margin = 8
    x0, y0 = math.floor(x0 - margin), math.floor(y0 - margin)
    W, H = math.ceil(x1 + margin - x0), math.ceil(y1 + margin - y0)
    # Printed on A3 landscape (400 mm wide usable) the drawing fills the page.
    scale = min(400 / W, 277 / H)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(W * scale)}mm" height="{num(H * scale)}mm"'
        f' viewBox="{x0} {y0} {W} {H}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">',
        '<title>consentcam kiosk wiring</title>',
        f'<rect x="{x0}" y="{y0}" width="{W}" height="{H}" fill="#fff"/>',
        f'<rect x="{x0 + 3}" y="{y0 + 3}" width="{W - 6}" height="{H - 6}" fill="none" stroke="#000"'
        ' stroke-width="0.3"/>',
    ]
    for text, x, y, size in s.notes:
        out.append(svg_text(x, y, text, size * 1.1, weight="bold" if size >= 3 else "normal"))

    wire_colour = "#008000"
    for a, b in s.wires:
        out.append(f'<line x1="{num(a[0])}" y1="{num(a[1])}" x2="{num(b[0])}" y2="{num(b[1])}"'
                   f' stroke="{wire_colour}" stroke-width="0.3"/>')
    for x, y in s.junctions:
        out.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="0.5" fill="{wire_colour}"/>')
    for x, y in s.no_connects:
        d = 0.8
        out.append(f'<path d="M{num(x - d)} {num(y - d)}L{num(x + d)} {num(y + d)}M{num(x - d)} {num(y + d)}'
                   f'L{num(x + d)} {num(y - d)}" stroke="#00f" stroke-width="0.25"/>')
    for net, x, y, angle in s.labels:
        anchor = "end" if angle == 180 else "start"
        dx = -0.6 if angle == 180 else 0.6
        out.append(svg_text(x + dx, y - 0.6, net, 1.9, anchor, colour="#00008b"))

    for inst in s.instances:
        sym = inst.sym
        out.append(f'<g id="{esc(inst.ref)}">')
        for gr in sym.graphics:
            if gr[0] == "rect":
                _, x1, y1, x2, y2 = gr
                (ax, ay), (bx, by) = inst.to_screen(x1, y1), inst.to_screen(x2, y2)
                fill = "#fffbe6" if not sym.power else "none"
                out.append(f'<rect x="{num(min(ax, bx))}" y="{num(min(ay, by))}" width="{num(abs(bx - ax))}"'
                           f' height="{num(abs(by - ay))}" fill="{fill}" stroke="#800000" stroke-width="0.25"/>')
            elif gr[0] == "poly":
                pts = " ".join(f"{num(px)},{num(py)}" for px, py in (inst.to_screen(x, y) for x, y in gr[1]))
                fill = "#800000" if gr[2] else "none"
                colour = "#800000" if not sym.power else "#800000"
                out.append(f'<polyline points="{pts}" fill="{fill}" stroke="{colour}" stroke-width="0.25"/>')
            elif gr[0] == "circle":
                _, cx, cy, r = gr
                px, py = inst.to_screen(cx, cy)
                out.append(f'<circle cx="{num(px)}" cy="{num(py)}" r="{num(r)}" fill="none"'
                           ' stroke="#800000" stroke-width="0.25"/>')
        for p in sym.pins:
            if p.hidden or sym.power:
                continue
            x0, y0 = inst.to_screen(p.x, p.y)
            dx, dy = inst.outward(p.number)
            x1, y1 = x0 - dx * p.length, y0 - dy * p.length
            out.append(f'<line x1="{num(x0)}" y1="{num(y0)}" x2="{num(x1)}" y2="{num(y1)}"'
                       ' stroke="#800000" stroke-width="0.25"/>')
            if sym.show_pin_numbers:
                if dx:
                    out.append(svg_text((x0 + x1) / 2, y0 - 0.5, p.number, 1.5, "middle", colour="#800000"))
                else:
                    out.append(svg_text(x0 + 0.6, (y0 + y1) / 2, p.number, 1.5, colour="#800000"))
            if sym.show_pin_names and dx:
                anchor = "start" if dx < 0 else "end"
                out.append(svg_text(x1 - dx * 0.8, y0 + 0.6, p.name, 1.7, anchor, colour="#006060"))
        def anchor(fx: float) -> str:
            return "start" if fx > inst.x + 0.5 else ("end" if fx < inst.x - 0.5 else "middle")

        if sym.power:
            vx, vy = inst.field("value")
            out.append(svg_text(vx, vy + 0.6, inst.value, 1.7, anchor(vx), colour="#800000"))
        else:
            (rx, ry), (vx, vy) = inst.field("ref"), inst.field("value")
            big = sym.name in ("RPi_GPIO_40", "RC522_Module", "SSD1306_I2C_Module")
            if big:
                top = min(inst.to_screen(gr[1], gr[2])[1] for gr in sym.graphics if gr[0] == "rect")
                out.append(svg_text(inst.x, top - 3.6, inst.ref, 2.0, "middle", "bold"))
                out.append(svg_text(inst.x, top - 1.0, inst.value, 1.9, "middle"))
            else:
                out.append(svg_text(rx, ry + 0.6, inst.ref, 1.8, anchor(rx), "bold"))
                out.append(svg_text(vx, vy + 0.6, inst.value, 1.8, anchor(vx)))
        out.append("</g>")

    out += svg_text_from(s, table, TABLE_AT[0], TABLE_AT[1], TABLE_WIDTHS,
                         "Wiring table (from firmware/config/kiosk.toml)")
    out.append(svg_text(x0 + W - 6, y0 + H - 6, "consentcam kiosk rev 1, generated by schematics/generate.py",
                        1.8, "end"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------
# Tables.


def wiring_rows(pins: dict[str, int]) -> list[dict[str, str]]:
    """One row per header pin the kiosk uses, in header order."""
    rows = []
    for f in FUNCTIONS:
        gpio = pins[f.key]
        rows.append({"function": f.key, "gpio": str(gpio), "header": str(header_pin(gpio)),
                     "net": f"GPIO{gpio}_{f.net}", "to": f"{f.part} pin {f.part_pin}", "what": f.what})
    for gpio, net, part, part_pin, what in BUSES:
        rows.append({"function": net.lower(), "gpio": str(gpio), "header": str(header_pin(gpio)),
                     "net": f"GPIO{gpio}_{net}", "to": f"{part} pin {part_pin}", "what": what})
    power = [
        ("3V3", "1", "+3V3", "U2 pin 2", "SSD1306 VCC"),
        ("5V", "2", "+5V", "BZ1 +", "buzzer supply"),
        ("GND", "6", "GND", "all GND", "LEDs, buttons, Q1, Q2, 12 V supply -"),
        ("GND", "9", "GND", "U2 pin 1", "SSD1306 GND"),
        ("3V3", "17", "+3V3", "U1 pin 8", "MFRC522 3.3V"),
        ("GND", "20", "GND", "U1 pin 6", "MFRC522 GND"),
    ]
    for name, header, net, to, what in power:
        rows.append({"function": name.lower(), "gpio": "-", "header": header, "net": net, "to": to, "what": what})
    rows.sort(key=lambda r: int(r["header"]))
    return rows


def pins_md(pins: dict[str, int]) -> str:
    rows = wiring_rows(pins)
    out = [
        "# Kiosk pin table",
        "",
        "Generated by `schematics/generate.py` from `firmware/config/kiosk.toml`; do not edit.",
        "Header pins are physical positions on the 40-pin header: pin 1 has the square pad, at the",
        "end nearest the microSD card slot; odd pins are the inner row, even pins the row along",
        "the board's edge.",
        "GPIO numbers are BCM numbers, as in the config file.",
        "",
        "| header pin | GPIO | config / bus | net | goes to | what |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(f"| {r['header']} | {r['gpio']} | `{r['function']}` | `{r['net']}` | {r['to']} | {r['what']} |")
    out.append("")
    out.append("All GND header pins (6, 9, 14, 20, 25, 30, 34, 39) are joined on the Pi; use any.")
    out.append("Unused header pins are left unconnected.")
    return "\n".join(out) + "\n"


# (reference(s), quantity, description, manufacturer, part number, supplier hint, unit cost GBP, note)
BOM = [
    ("J1", 1, "Raspberry Pi, 40-pin header, 64-bit (Zero 2 W, 3B+, 4B, 5)", "Raspberry Pi Ltd",
     "Raspberry Pi 4 Model B 2GB", "any Approved Reseller", 45.00, "Zero 2 W (about 15.00) also works"),
    ("-", 1, "Official USB-C power supply 5.1 V 3 A (Pi 4)", "Raspberry Pi Ltd",
     "Raspberry Pi 15W USB-C Power Supply", "any Approved Reseller", 8.00, "use the supply made for your model"),
    ("-", 1, "microSD card 32 GB, A1/A2 class (the Pi's system)", "SanDisk", "SDSQUA4-032G-GN6MA",
     "", 7.00, "industrial/high-endurance cards last longer"),
    ("-", 1, "USB SD card reader for the returned camera's card", "any", "USB 3 SD/microSD reader",
     "", 8.00, "plugged into the Pi"),
    ("U1", 1, "MFRC522 13.56 MHz RFID reader module (RC522, 8-pin)", "generic", "RFID-RC522",
     "", 4.00, "comes with a card and a key fob"),
    ("-", 10, "13.56 MHz MIFARE Classic 1K badges / stickers", "NXP (tags)", "MF1S50 card or sticker",
     "", 0.40, "one per staff member and one per device"),
    ("U2", 1, "0.96 inch 128x64 OLED, SSD1306, I2C, 4-pin", "generic", "SSD1306 0.96in I2C",
     "", 5.00, "check the pin order: GND VCC SCL SDA"),
    ("R1, R2", 2, "Resistor 330 ohm 0.25 W 1 %", "Yageo", "MFR-25FBF52-330R", "", 0.10, ""),
    ("R3", 1, "Resistor 1 k 0.25 W 1 %", "Yageo", "MFR-25FBF52-1K", "", 0.10, ""),
    ("R4, R6", 2, "Resistor 10 k 0.25 W 1 %", "Yageo", "MFR-25FBF52-10K", "", 0.10, "R6: lock only"),
    ("R5", 1, "Resistor 100 ohm 0.25 W 1 %", "Yageo", "MFR-25FBF52-100R", "", 0.10, "lock only"),
    ("D1", 1, "LED 5 mm green, diffused", "Kingbright", "L-53GD", "", 0.20, ""),
    ("D2", 1, "LED 5 mm red, diffused", "Kingbright", "L-53ID", "", 0.20, ""),
    ("D3", 1, "Diode 1N4148", "onsemi", "1N4148", "", 0.05, ""),
    ("D4", 1, "Diode 1N4007 (solenoid flyback)", "onsemi", "1N4007", "", 0.10, "lock only"),
    ("Q1", 1, "NPN transistor, TO-92 (C B E)", "onsemi", "BC337-40", "", 0.15, "check the pin order of a substitute"),
    ("Q2", 1, "N-channel logic-level MOSFET, TO-220 (G D S)", "Infineon", "IRLB8721PBF", "", 1.00,
     "lock only; fully on from a 3.3 V gate"),
    ("BZ1", 1, "Piezo buzzer with built-in oscillator (active), 3-20 V", "Murata", "PKB24SPCH3601-B0", "", 2.50,
     "must be active: the firmware switches it on and off"),
    ("SW1, SW2", 2, "Push button, momentary, normally open", "Omron", "B3F-1000", "", 0.30,
     "or 16 mm panel buttons for a front panel"),
    ("SW3", 1, "Reed switch door contact, normally open, with magnet", "Littelfuse", "59145-010 + 57145-000",
     "", 6.00, "lock only"),
    ("L1", 1, "Lock-style solenoid 12 V DC", "Adafruit", "1512", "", 15.00, "lock only; about 0.65 A"),
    ("J2", 1, "Screw terminal 2-way 5.08 mm", "Phoenix Contact", "1935161", "", 0.50, "lock only"),
    ("-", 1, "12 V DC 2 A power supply", "any", "12 V 2 A, 2.1 mm barrel", "", 8.00, "lock only"),
    ("-", 1, "Stripboard, female-female jumper wires, 2x20 socket", "any", "", "", 5.00, ""),
]


def bom_csv() -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["reference", "quantity", "description", "manufacturer", "part_number",
                "unit_cost_gbp", "line_cost_gbp", "note"])
    for ref, qty, desc, maker, part, _supplier, cost, note in BOM:
        w.writerow([ref, qty, desc, maker, part, f"{cost:.2f}", f"{qty * cost:.2f}", note])
    return buf.getvalue()


def bom_totals() -> tuple[float, float]:
    """(everything, the optional lock's share)."""
    total = lock = 0.0
    for _ref, qty, _desc, _maker, _part, _supplier, cost, note in BOM:
        total += qty * cost
        if "lock only" in note:
            lock += qty * cost
    return total, lock


def bom_md() -> str:
    out = ["| ref | qty | part | maker / part number | approx. each (GBP) | note |",
           "|---|---|---|---|---|---|"]
    for ref, qty, desc, maker, part, _supplier, cost, note in BOM:
        out.append(f"| {ref} | {qty} | {desc} | {maker} {part} | {cost:.2f} | {note} |")
    total, lock = bom_totals()
    out.append("")
    out.append(f"Approximate total: GBP {total:.2f}, of which GBP {lock:.2f} is the optional cabinet lock"
               " (prices are 2025-26 single-unit UK retail, for budgeting only).")
    return "\n".join(out)


def pins_md_table(pins: dict[str, int]) -> str:
    text = pins_md(pins)
    start = text.index("| header pin")
    end = text.index("\n\n", start)
    return text[start:end]


def replace_between(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name}:BEGIN (generated) -->", f"<!-- {name}:END -->"
    if begin not in text or end not in text:
        raise SystemExit(f"schematics/README.md lacks the {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def library_text(syms: dict[str, LibSymbol]) -> str:
    """The same symbols as a KiCad symbol library, for editing the schematic in KiCad."""
    out = ["(kicad_symbol_lib (version 20211014) (generator consentcam_generate)"]
    for name in sorted(syms):
        out.append(lib_symbol_text(syms[name], syms[name].name))
    out.append(")")
    return "\n".join(out) + "\n"


SYM_LIB_TABLE = """(sym_lib_table
  (lib (name "consentcam")(type "KiCad")(uri "${KIPRJMOD}/consentcam.kicad_sym")(options "")(descr "consentcam kiosk symbols, written by generate.py"))
)
"""


def outputs(config: Path) -> dict[Path, str]:
    pins = read_pins(config)
    sheet = build(pins)
    rows = wiring_rows(pins)
    table = [["header", "GPIO", "net", "goes to"]] + [
        [r["header"], r["gpio"], r["net"], f"{r['to']} ({r['what']})"] for r in rows]
    readme_path = HERE / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    readme = replace_between(readme, "BOM", bom_md())
    readme = replace_between(readme, "PINS", pins_md_table(pins))
    return {
        HERE / "kiosk.kicad_sch": kicad_text(sheet),
        HERE / "consentcam.kicad_sym": library_text(sheet.syms),
        HERE / "sym-lib-table": SYM_LIB_TABLE,
        HERE / "kiosk.svg": svg(sheet, table),
        HERE / "pins.md": pins_md(pins),
        HERE / "bom.csv": bom_csv(),
        readme_path: readme,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG, help="kiosk.toml to read the pins from")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a committed file is out of date")
    args = parser.parse_args()
    stale = []
    for path, text in outputs(args.config).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path.relative_to(ROOT))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        for path in stale:
            print(f"{path} is out of date: run python3 schematics/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

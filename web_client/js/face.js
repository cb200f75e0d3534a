// The patient's face: an SVG drawn here from the persona's appearance (age, gender, skin tone,
// hair), no image files. Its expression follows the emotional state: each emotion has a full
// expression (EXPRESSIONS), and distress sets how much of it shows, and how far the patient
// slumps. A change eases over EASE_MS; while the patient speaks, the mouth opens with the
// loudness of the voice. Under prefers-reduced-motion the face changes at once and the mouth
// stays still.
//
// It is a picture with a name (role="img", "Mr Reyes looks very frightened"), not a live region:
// the change of feeling is announced by the patient panel, once per turn.

import { newId, svgEl } from "./dom.js";
import { feelingWord } from "./feeling-change.js";

export const EASE_MS = 700;
const INK = "#15100d";   // features: 3:1 or more against every skin tone below

// light to dark; the darkest is as dark as a tone can be with INK still 3:1 against it
export const SKIN = {
  light: ["#f2d0b5", "#d9ab8c"],
  "medium-light": ["#e0ad85", "#c48d65"],
  medium: ["#c68c5c", "#a97048"],
  "medium-dark": ["#a86d43", "#8c5733"],
  dark: ["#8a5636", "#6f4128"],
};
const HAIR = {
  black: "#1f1a17", brown: "#5a3a24", auburn: "#7a3b1f", blonde: "#c9a45c", grey: "#8d8984", white: "#d9d6d0",
};

// The neutral face, and each emotion's expression at full strength. brow: lift (up +) and
// tilt (inner ends down +); eye: open (1 normal), lid (0 open .. 1 heavy), gaze x/y; mouth:
// curve (corners up +), open (0..1), width, skew (right corner down +); blush, tear, sweat (0..1);
// posture: tilt (degrees), slump (head down), shoulders (up +).
const NEUTRAL = {
  lift: 0, tilt: 0, open: 1, lid: 0.1, gx: 0, gy: 0, curve: 0, mouth: 0, width: 16, skew: 0,
  blush: 0, tear: 0, sweat: 0, headTilt: 0, slump: 0, shoulders: 0,
};
export const EXPRESSIONS = {
  fear: { lift: 4, tilt: -3, open: 1.45, lid: 0, gy: -0.3, curve: -2, mouth: 0.35, width: 13, sweat: 1, shoulders: 3 },
  sadness: { lift: 1, tilt: -3.5, open: 0.85, lid: 0.45, gy: 1.6, curve: -4.5, width: 14, tear: 1, headTilt: 6, slump: 5, shoulders: -3 },
  anger: { lift: -3, tilt: 6, open: 0.85, lid: 0.3, curve: -2.5, width: 15, blush: 0.5, shoulders: 2.5, slump: -1 },
  frustration: { lift: -1.5, tilt: 3, open: 0.9, lid: 0.4, gx: -1.8, curve: -1.8, width: 15, skew: 3, blush: 0.2, headTilt: -3, shoulders: 1.5 },
  shame: { tilt: -2, open: 0.75, lid: 0.55, gy: 2.2, curve: -1.5, width: 12, blush: 1, slump: 6, shoulders: -2 },
  guilt: { lift: 1, tilt: -2.5, open: 0.85, lid: 0.35, gx: 2, gy: 1.8, curve: -1.5, width: 12.5, skew: -1.5, headTilt: -4, slump: 3, shoulders: 1 },
  overwhelm: { lift: 2.5, tilt: -4, open: 1.15, lid: 0.25, gy: 0.6, curve: -2.5, mouth: 0.25, width: 14, sweat: 1, headTilt: 3, slump: 4, shoulders: -1 },
  loneliness: { lift: 0.5, tilt: -2, open: 0.85, lid: 0.4, gx: -2.2, gy: 1, curve: -2.5, width: 13, headTilt: -5, slump: 3, shoulders: -2.5 },
  calm: { lift: 0.5, open: 0.95, lid: 0.2, curve: 2, width: 16, shoulders: -1 },
  relief: { lift: 1.5, tilt: -1, open: 0.8, lid: 0.35, curve: 4.5, mouth: 0.08, width: 18, headTilt: 2, shoulders: -2 },
};
export const EMOTIONS = Object.keys(EXPRESSIONS);
const SOFTENS = new Set(["calm", "relief"]); // these show more as distress falls

/** How much of the emotion's expression shows, 0.3..1: more distress, more of it (less, for calm and relief). */
export function strength(emotion, distress) {
  const d = Math.min(1, Math.max(0, distress ?? 0.5));
  const x = SOFTENS.has(emotion) ? 1 - d / 0.6 : (d - 0.2) / 0.7;
  return 0.3 + 0.7 * Math.min(1, Math.max(0, x));
}

/** The face's numbers for a state: the neutral face moved toward the emotion's by its strength. */
export function expression(emotion, distress) {
  const full = EXPRESSIONS[emotion];
  if (!full) return { ...NEUTRAL };
  const k = strength(emotion, distress);
  const out = {};
  for (const [key, v] of Object.entries(NEUTRAL)) out[key] = v + ((full[key] ?? v) - v) * k;
  // tears and sweat only at the strong end; the whole body sinks a little more with distress
  out.tear = Math.max(0, (out.tear - 0.75) * 4);
  out.sweat = Math.max(0, (out.sweat - 0.7) * 3.3);
  if (!SOFTENS.has(emotion)) out.slump += 2 * Math.max(0, (distress ?? 0) - 0.5);
  return out;
}

export function reducedMotion() {
  return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
}

function luminance(hex) {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((x) => (x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const f = (n) => (Math.round(n * 100) / 100).toString();

export class Face {
  /** `patient`: `{name, age, gender, appearance: {skin_tone, hair, hair_colour}}` as /api/personas gives it. */
  constructor(patient) {
    this.name = patient.name || "The patient";
    const look = patient.appearance || {}; // the server fills it in; a session stored before it has none
    const woman = /^(f|female|woman)$/i.test((patient.gender || "").trim());
    const [skin, shade] = SKIN[look.skin_tone] || SKIN.medium;
    const hairStyle = look.hair || (woman ? "long" : "short");
    const hair = HAIR[look.hair_colour] || HAIR[(patient.age || 0) >= 75 ? "white" : (patient.age || 0) >= 60 ? "grey" : "brown"];
    const brow = contrast(hair, skin) >= 3 ? hair : INK; // the brows carry the expression: they must show
    const age = Math.min(1, Math.max(0, ((patient.age || 40) - 40) / 35));
    const clip = newId("face-clip");

    const p = (cls, attrs) => svgEl("path", { class: cls, ...attrs });
    this.parts = {
      body: svgEl("g", { class: "face__body" },
        svgEl("rect", { x: 51, y: 74, width: 18, height: 26, fill: shade }),
        p("face__shirt", { d: "M12 126 C14 105 32 97 48 95 L72 95 C88 97 106 105 108 126 Z", fill: "#3f6e8c" }),
        p(null, { d: "M50 95 L60 106 L70 95 Z", fill: shade })),
      browL: p("face__brow", { fill: "none", stroke: brow, "stroke-width": 2.4, "stroke-linecap": "round" }),
      browR: p("face__brow", { fill: "none", stroke: brow, "stroke-width": 2.4, "stroke-linecap": "round" }),
      eyes: [47, 73].map((x) => ({
        x,
        white: svgEl("ellipse", { class: "face__eye", cx: x, cy: 53, rx: 5.4, fill: "#fff", stroke: INK, "stroke-width": 0.8 }),
        pupil: svgEl("circle", { class: "face__pupil", fill: "#2a1a10" }),
        lid: p("face__lid", { fill: skin }),
        edge: p("face__lid-edge", { fill: "none", stroke: INK, "stroke-width": 1.1, "stroke-linecap": "round" }),
      })),
      mouth: p("face__mouth", { fill: "#5a1d1d", stroke: INK, "stroke-width": 1.4, "stroke-linejoin": "round" }),
      blush: [44, 76].map((x) => svgEl("ellipse", { class: "face__blush", cx: x, cy: 66, rx: 6, ry: 3.4, fill: "#d9534f" })),
      tear: p("face__tear", { d: "M44 60 C42 64 41.5 66 44 67 C46.5 66 46 64 44 60 Z", fill: "#8fd0f0", stroke: "#2f7fae", "stroke-width": 0.7 }),
      sweat: p("face__sweat", { d: "M84 44 C82 48 81.5 50 84 51 C86.5 50 86 48 84 44 Z", fill: "#bfe6f7", stroke: "#2f7fae", "stroke-width": 0.7 }),
    };
    const { parts } = this;
    const eyeNodes = parts.eyes.flatMap((e) => [e.white, e.pupil, e.lid, e.edge]);
    parts.head = svgEl("g", { class: "face__head" },
      hairStyle === "long" ? p("face__hair-back", { fill: hair,
        d: "M29 52 C28 27 44 16 60 16 C76 16 92 27 91 52 C91 68 94 80 91 90 C85 95 78 93 75 88 L45 88 C42 93 35 95 29 90 C26 80 29 68 29 52 Z" })
        : [svgEl("ellipse", { cx: 33, cy: 56, rx: 3.6, ry: 6.5, fill: shade }),
          svgEl("ellipse", { cx: 87, cy: 56, rx: 3.6, ry: 6.5, fill: shade })],
      p("face__skin", { fill: skin, stroke: shade, "stroke-width": 1,
        d: "M33 52 C33 30 45 21 60 21 C75 21 87 30 87 52 C87 72 76 87 60 87 C44 87 33 72 33 52 Z" }),
      // lines of age: the forehead and from nose to mouth, fainter for the young
      p("face__lines", { fill: "none", stroke: shade, "stroke-width": 1, "stroke-linecap": "round", opacity: f(age),
        d: "M50 33 Q60 31 70 33 M52 37 Q60 35.5 68 37 M53 64 Q50 69 51 74 M67 64 Q70 69 69 74" }),
      hairFront(hairStyle, hair, p),
      parts.blush, eyeNodes, parts.browL, parts.browR,
      p("face__nose", { fill: "none", stroke: shade, "stroke-width": 1.4, "stroke-linecap": "round",
        d: "M60 55 C58.5 61 56.5 65 58 67 C59 68 61 68 62.5 67" }),
      parts.mouth, parts.tear, parts.sweat);
    this.el = svgEl("svg", { class: "face", viewBox: "0 0 120 120", role: "img", "aria-label": this.name },
      svgEl("defs", {}, svgEl("clipPath", { id: clip }, svgEl("circle", { cx: 60, cy: 60, r: 59 }))),
      svgEl("circle", { class: "face__disc", cx: 60, cy: 60, r: 59 }),
      svgEl("g", { "clip-path": `url(#${clip})` }, parts.body, parts.head));

    this.now = { ...NEUTRAL };   // what is drawn
    this.from = null;            // a change under way: from, to, start time
    this.to = null;
    this.t0 = 0;
    this.talk = 0;               // how open the mouth is with the voice, 0..1
    this.level = null;           // () => the voice's loudness (RMS), while the patient speaks
    this.frame = null;
    this.draw();
  }

  /** Show the state `{emotion, distress}`: eased, or at once under reduced motion (or `instant`). */
  show(state, instant = false) {
    const target = expression(state.emotion, state.distress);
    this.el.dataset.emotion = state.emotion || "";
    this.el.setAttribute("aria-label", state.emotion ? `${this.name} looks ${feelingWord(state).toLowerCase()}` : this.name);
    if (instant || reducedMotion()) {
      this.from = null;
      this.now = target;
      this.draw();
      return;
    }
    this.from = { ...this.now };
    this.to = target;
    this.t0 = performance.now();
    this.run();
  }

  /** While the patient speaks: `level()` gives the voice's loudness; null when the voice stops. */
  speak(level) {
    this.level = reducedMotion() ? null : level;
    if (this.level) this.run();
  }

  run() {
    if (this.frame === null) this.frame = requestAnimationFrame((t) => this.tick(t));
  }

  tick(t) {
    this.frame = null;
    if (this.from) {
      const x = Math.min(1, (t - this.t0) / EASE_MS);
      const k = x < 0.5 ? 2 * x * x : 1 - (-2 * x + 2) ** 2 / 2;
      for (const key of Object.keys(this.now)) this.now[key] = this.from[key] + (this.to[key] - this.from[key]) * k;
      if (x >= 1) {
        this.now = { ...this.to };
        this.from = null;
      }
    }
    const rms = this.level && !reducedMotion() ? this.level() : 0;
    const open = Math.min(1, Math.max(0, (rms - 0.008) * 9));
    this.talk += (open - this.talk) * (open > this.talk ? 0.6 : 0.35);
    if (this.talk < 0.01 && !this.level) this.talk = 0;
    this.draw();
    if (this.from || this.level || this.talk > 0) this.run();
  }

  draw() {
    const n = this.now;
    const { parts } = this;
    parts.head.setAttribute("transform", `translate(0 ${f(n.slump)}) rotate(${f(n.headTilt)} 60 90)`);
    parts.body.setAttribute("transform", `translate(0 ${f(-n.shoulders)})`);
    // brows: outer end, arch, inner end; tilt moves the inner ends (a frown flattens the arch)
    const by = 42 - n.lift;
    const arch = by - 2.5 + Math.max(0, n.tilt) * 0.4;
    parts.browL.setAttribute("d", `M40 ${f(by + 1)} Q46 ${f(arch)} 54 ${f(by + n.tilt)}`);
    parts.browR.setAttribute("d", `M80 ${f(by + 1)} Q74 ${f(arch)} 66 ${f(by + n.tilt)}`);
    for (const e of parts.eyes) {
      const ry = 3.6 * n.open;
      const r = Math.min(2.3, ry * 0.8);
      e.white.setAttribute("ry", f(ry));
      e.pupil.setAttribute("cx", f(e.x + n.gx));
      e.pupil.setAttribute("cy", f(53 + Math.max(-(ry - r), Math.min(ry - r, n.gy))));
      e.pupil.setAttribute("r", f(r));
      // the upper lid: its edge's middle runs from the top of the eye (lid 0) down past its centre
      const c = 2 * (53 - ry + 1.6 * ry * n.lid) - 53;
      e.lid.setAttribute("d", `M${e.x - 6.4} 53 Q${e.x} ${f(53 - 2 * ry - 4)} ${e.x + 6.4} 53 Q${e.x} ${f(c)} ${e.x - 6.4} 53 Z`);
      e.edge.setAttribute("d", `M${e.x - 6} 53 Q${e.x} ${f(c)} ${e.x + 6} 53`);
    }
    // the mouth: corners raised by `curve`, the lower lip dropped by how open it is
    const open = Math.min(1.1, n.mouth + this.talk * 0.85);
    const my = 74;
    const half = n.width / 2;
    const ly = my - n.curve;
    const ry = my - n.curve + n.skew;
    const mid = (ly + ry) / 2;
    const up = 2 * (my - 0.6 - open * 1.5) - mid;
    const down = 2 * (my + 0.6 + open * 9) - mid;
    parts.mouth.setAttribute("d", `M${f(60 - half)} ${f(ly)} Q60 ${f(up)} ${f(60 + half)} ${f(ry)} Q60 ${f(down)} ${f(60 - half)} ${f(ly)} Z`);
    parts.mouth.dataset.voice = f(this.talk); // how far the voice opens it (0 when silent)
    for (const b of parts.blush) b.setAttribute("opacity", f(n.blush * 0.55));
    parts.tear.setAttribute("opacity", f(Math.min(1, n.tear)));
    parts.sweat.setAttribute("opacity", f(Math.min(1, n.sweat)));
  }
}

function hairFront(style, colour, p) {
  if (style === "bald") {
    return p("face__hair", { fill: colour, d: "M33 50 C32 43 34 38 37 35 L39 49 Z M87 50 C88 43 86 38 83 35 L81 49 Z" });
  }
  return p("face__hair", { fill: colour,
    d: "M31 52 C28 29 43 16 60 16 C77 16 92 29 89 52 C87 41 83 34 75 31 C66 35 53 35 45 31 C37 34 33 41 31 52 Z" });
}

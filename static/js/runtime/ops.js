// THE table of frame ops. A frame's `charts` maps a chart id to an op ({op: "react", ...});
// each entry here holds all the page does for one op:
//   queue(queue, op): add `op` to the ops waiting for the chart's next draw (frames can
//                     arrive faster than a browser draws, and drawing happens at most once
//                     per animation frame), dropping or merging earlier ones it makes moot;
//   draw(chart, op, demo): draw it on `chart` (plotting.js's Chart);
//   fold(state, op):  what the chart shows after `op`, as data ({data, layout}), without
//                     drawing: the timeline (timeline.js) rebuilds a chart as of any frame.
// app/demos/frame_ops.py builds the ops and lists them in FRAME_OPS with their keys; a new
// op is one entry there and one here (tests/test_contract.py checks both name the same).

import { clone } from "livegrad/util.js";

// A redraw makes everything waiting before it for this chart moot.
function replaceQueue(queue, op) {
  queue.length = 0;
  queue.push(op);
}

const sameTraces = (a, b) => String(a.traces) === String(b.traces) && a.max_points === b.max_points;

export const FRAME_OPS = {
  // Redraw the chart whole with op.data and op.layout (Plotly.react).
  react: {
    queue: replaceQueue,
    draw(chart, op) { Plotly.react(chart.div, chart.withGhosts(op.data), chart.layoutWith(op.layout)); },
    fold: (state, op) => ({ data: clone(op.data), layout: op.layout }),
  },

  // Append op.x[i], op.y[i] to trace op.traces[i], keeping at most op.max_points.
  extend: {
    queue(queue, op) {
      const last = queue[queue.length - 1];
      if (last && last.op === "extend" && sameTraces(last, op)) {
        // Every extendTraces redraws the chart: merge appends that wait for one draw.
        last.x = last.x.map((xs, i) => xs.concat(op.x[i]));
        last.y = last.y.map((ys, i) => ys.concat(op.y[i]));
      } else {
        queue.push(clone(op)); // cloned: a later append is merged into it
      }
    },
    draw(chart, op) { Plotly.extendTraces(chart.div, { x: op.x, y: op.y }, op.traces, op.max_points); },
    fold(state, op) {
      op.traces.forEach((index, i) => {
        const trace = state.data[index];
        if (!trace) return;
        trace.x = (trace.x || []).concat(op.x[i]).slice(-op.max_points);
        trace.y = (trace.y || []).concat(op.y[i]).slice(-op.max_points);
      });
      return state;
    },
  },

  // Draw op.data, then play op.frames (each a list of traces), op.frame_ms apart: a short
  // sequence such as a learned policy acting.
  animate: {
    queue: replaceQueue,
    draw(chart, op, demo) {
      const frames = op.frames.map((traces, i) => ({ name: String(i), data: traces }));
      Plotly.react(chart.div, chart.withGhosts(op.data), chart.layoutWith(op.layout))
        .then(() => Plotly.addFrames(chart.div, frames))
        .then(() => Plotly.animate(chart.div, null, {
          mode: "immediate", frame: { duration: op.frame_ms, redraw: false },
          transition: { duration: 0 },
        }))
        .catch(() => { /* a newer frame replaced the chart mid-animation */ });
      demo.record.animated = (demo.record.animated || 0) + 1;
    },
    // As of a frame, the chart shows the sequence's first picture (a scrubber does not play).
    fold: (state, op) => ({ data: clone(op.data), layout: op.layout }),
  },
};

// An op of a name the table lacks is skipped (the contract tests keep demos from sending one).
export function queueOp(queue, op) {
  const entry = FRAME_OPS[op.op];
  if (entry) entry.queue(queue, op);
}

export function drawOp(chart, op, demo) {
  FRAME_OPS[op.op].draw(chart, op, demo);
}

// What chart `id` shows after frames[0..last]: its declared traces, then each frame's op
// folded in. Only ops after the last full redraw matter, so start from there.
export function chartStateAt(frames, id, declaredTraces, last) {
  let start = 0;
  for (let i = last; i >= 0; i -= 1) {
    const op = frames[i].charts && frames[i].charts[id];
    if (op && op.op !== "extend" && FRAME_OPS[op.op]) { start = i; break; }
  }
  let state = { data: clone(declaredTraces), layout: {} };
  for (let i = start; i <= last; i += 1) {
    const op = frames[i].charts && frames[i].charts[id];
    if (op && FRAME_OPS[op.op]) state = FRAME_OPS[op.op].fold(state, op);
  }
  return state;
}

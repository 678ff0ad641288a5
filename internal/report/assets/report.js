// wsstorm report: draws the charts from the JSON in #wsstorm-data with uPlot.
// After each chart is built it is listed in window.wsstormCharts as
// {id, points, width, height}; when every chart has been tried,
// body[data-rendered="true"] is set. A chart that fails is reported with
// console.error and the others are still drawn.
(function () {
  "use strict";

  var HEIGHT = 320;
  var charts = [];
  window.wsstormCharts = [];

  function trimNumber(v, decimals) {
    var s = v.toFixed(decimals);
    if (s.indexOf(".") >= 0) {
      s = s.replace(/0+$/, "").replace(/\.$/, "");
    }
    return s;
  }

  // A readable number: 12,345 or 12.3 or 0.045.
  function fmt(v) {
    if (v == null || isNaN(v)) {
      return "-";
    }
    var a = Math.abs(v);
    if (a >= 1000) {
      return Math.round(v).toLocaleString("en-US");
    }
    if (a >= 100) {
      return trimNumber(v, 0);
    }
    if (a >= 10) {
      return trimNumber(v, 1);
    }
    if (a >= 1) {
      return trimNumber(v, 2);
    }
    return trimNumber(v, 3);
  }

  // Seconds of the run: "45 s", or "12:30" past ten minutes.
  function fmtSeconds(v, long) {
    if (!long) {
      return trimNumber(v, 2) + " s";
    }
    var s = Math.round(v);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    var mm = (h > 0 && m < 10 ? "0" : "") + m;
    return (h > 0 ? h + ":" : "") + mm + ":" + (sec < 10 ? "0" : "") + sec;
  }

  // x = 1/(1-q) as a percentile: 1 → 0%, 10 → 90%, 1000 → 99.9%.
  function fmtPercentile(x, extra) {
    if (x <= 1) {
      return "0%";
    }
    var decimals = Math.max(0, Math.ceil(Math.log10(x) - 1e-9) - 2 + (extra || 0));
    return trimNumber(100 * (1 - 1 / x), decimals) + "%";
  }

  // Vertical dashed lines with labels at the chaos events' starts. Labels
  // that would overlap go on the next of three rows.
  function markersPlugin(markers) {
    return {
      hooks: {
        draw: function (u) {
          if (!markers.length) {
            return;
          }
          var ctx = u.ctx;
          var ratio = window.devicePixelRatio || 1;
          var top = u.bbox.top;
          var bottom = u.bbox.top + u.bbox.height;
          var rowEnds = [-Infinity, -Infinity, -Infinity];
          ctx.save();
          ctx.font = Math.round(11 * ratio) + "px system-ui, sans-serif";
          ctx.textBaseline = "top";
          markers.forEach(function (m) {
            var x = Math.round(u.valToPos(m.x, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) {
              return;
            }
            ctx.strokeStyle = "rgba(55, 65, 81, 0.55)";
            ctx.lineWidth = ratio;
            ctx.setLineDash([4 * ratio, 4 * ratio]);
            ctx.beginPath();
            ctx.moveTo(x + 0.5, top);
            ctx.lineTo(x + 0.5, bottom);
            ctx.stroke();
            var w = ctx.measureText(m.label).width;
            var row = 0;
            while (row < rowEnds.length - 1 && rowEnds[row] > x) {
              row++;
            }
            rowEnds[row] = x + w + 8 * ratio;
            var y = top + (2 + row * 14) * ratio;
            ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
            ctx.fillRect(x + 2 * ratio, y - ratio, w + 4 * ratio, 13 * ratio);
            ctx.fillStyle = "#374151";
            ctx.fillText(m.label, x + 4 * ratio, y);
          });
          ctx.restore();
        }
      }
    };
  }

  // The indices of values with no value beside them: a line has nothing to
  // draw for them, so they are drawn as points (a chart of one x, a sample
  // between gaps). null when there are none.
  function isolated(u, seriesIdx) {
    var ys = u.data[seriesIdx];
    var out = [];
    for (var i = 0; i < ys.length; i++) {
      if (ys[i] != null && (i === 0 || ys[i - 1] == null) && (i === ys.length - 1 || ys[i + 1] == null)) {
        out.push(i);
      }
    }
    return out.length ? out : null;
  }

  // The index of the step under x: the last whose x is not after it. The
  // cursor of a stepped chart reads the step it is over, not the nearest x.
  function stepIdx(u, seriesIdx, closestIdx, xValue) {
    if (closestIdx == null) {
      return closestIdx;
    }
    var xs = u.data[0];
    var i = closestIdx;
    while (i > 0 && xs[i] > xValue) {
      i--;
    }
    while (i + 1 < xs.length && xs[i + 1] <= xValue) {
      i++;
    }
    return i;
  }

  // Powers of ten between min and max, for the log percentile axis.
  function decades(u, axisIdx, min, max) {
    var out = [];
    for (var v = 1; v <= max * 1.0001; v *= 10) {
      if (v >= min / 1.0001) {
        out.push(v);
      }
    }
    return out;
  }

  // The widest of an axis's tick labels, in CSS pixels, in the axis's
  // font; 0 before the axis has its labels.
  function widestLabel(u, axis, values) {
    var widest = 0;
    if (!values || !axis.font) {
      return 0;
    }
    u.ctx.save();
    u.ctx.font = axis.font[0];
    values.forEach(function (v) {
      widest = Math.max(widest, u.ctx.measureText(String(v)).width / (window.devicePixelRatio || 1));
    });
    u.ctx.restore();
    return widest;
  }

  // Room right of the plot for half the last x tick label, which is
  // centred on the plot's right edge (99.999% on a percentile chart): at
  // least uPlot's own 25 px.
  function rightPadding(u, side, sides, cycle) {
    var x = u.axes[0];
    var values = x._values;
    var last = values && values.length ? [values[values.length - 1]] : null;
    return Math.max(25, Math.ceil(widestLabel(u, x, last) / 2) + 6);
  }

  // The y axis as wide as its widest tick label needs ("12,345"), ticks
  // and gap included; its title has its own room beside it.
  function yAxisSize(u, values, axisIdx, cycle) {
    var axis = u.axes[axisIdx];
    if (cycle > 1 && axis._size) {
      return axis._size; // settled: resizing again would never converge
    }
    return Math.max(40, Math.ceil(axis.ticks.size + axis.gap + widestLabel(u, axis, values) + 6));
  }

  function options(c, width) {
    var long = c.kind === "time" && c.x.length > 0 && c.x[c.x.length - 1] >= 600;
    var xSeries = { label: "time" };
    var xAxis = { label: "time since the run started", space: 60 };
    var xScale = { time: false };

    if (c.kind === "time") {
      xSeries.value = function (u, v, seriesIdx, idx) {
        if (v == null) {
          return "-";
        }
        // A step is a bucket: say which.
        var end = c.steps && idx != null ? u.data[0][idx + 1] : null;
        return fmtSeconds(v, long) + (end == null ? "" : " – " + fmtSeconds(end, long));
      };
      xAxis.values = function (u, splits) { return splits.map(function (v) { return fmtSeconds(v, long); }); };
      // From the run's start, so the charts of the run line up.
      xScale.range = function (u, min, max) { return [0, max > 0 ? max : 1]; };
    } else if (c.kind === "since") {
      xSeries.label = "since the event";
      xSeries.value = function (u, v) { return v == null ? "-" : trimNumber(v, 3) + " s"; };
      xAxis.label = "time since the event started";
      xAxis.values = function (u, splits) { return splits.map(function (v) { return trimNumber(v, 2) + " s"; }); };
      xScale.range = function (u, min, max) { return [0, max]; };
    } else if (c.kind === "percentile") {
      xSeries.label = "percentile";
      xSeries.value = function (u, v) { return v == null ? "-" : fmtPercentile(v, 2); };
      xAxis.label = "percentile";
      xAxis.splits = decades;
      xAxis.values = function (u, splits) { return splits.map(function (v) { return fmtPercentile(v); }); };
      xScale.distr = 3;
      xScale.log = 10;
      xScale.range = function (u, min, max) {
        return [1, Math.max(10, Math.pow(10, Math.ceil(Math.log10(max) - 1e-9)))];
      };
    } else {
      throw new Error("unknown chart kind " + c.kind);
    }

    var unit = c.y_unit || "";
    var series = [xSeries];
    // A rate over a bucket holds from the bucket's start to the next x.
    var stepped = c.steps ? uPlot.paths.stepped({ align: 1 }) : undefined;
    c.series.forEach(function (s) {
      series.push({
        label: s.label,
        stroke: s.color,
        width: s.width,
        fill: s.fill || undefined,
        dash: s.dash ? [8, 5] : undefined,
        paths: stepped,
        spanGaps: false,
        // A dashed series is drawn over another that it may equal: its
        // points are rings, so the other's show through.
        points: { show: false, size: 4 + 3 * s.width, fill: s.dash ? "rgba(0, 0, 0, 0)" : s.color, filter: isolated },
        value: function (u, v) { return v == null ? "-" : fmt(v) + unit; }
      });
    });
    var cursor = {};
    if (c.kind === "time") {
      cursor.sync = { key: "wsstorm-time" };
    }
    if (c.steps) {
      cursor.dataIdx = stepIdx;
    }

    var headroom = c.kind === "time" && c.markers.length ? 1.22 : 1.05;
    var yMax = c.y_max;
    return {
      width: width,
      height: HEIGHT,
      padding: [null, rightPadding, null, null],
      scales: {
        x: xScale,
        y: {
          range: function (u, min, max) {
            if (yMax != null) {
              return [0, yMax * 1.04];
            }
            return [0, max > 0 ? max * headroom : 1];
          }
        }
      },
      series: series,
      axes: [
        xAxis,
        {
          label: c.y_label,
          size: yAxisSize,
          values: function (u, splits) { return splits.map(function (v) { return fmt(v); }); }
        }
      ],
      cursor: cursor,
      legend: { live: true },
      plugins: [markersPlugin(c.markers || [])]
    };
  }

  function build(c) {
    var el = document.getElementById("chart-" + c.id);
    if (!el) {
      throw new Error("no element #chart-" + c.id);
    }
    if (!c.x.length || !c.series.length) {
      throw new Error("chart " + c.id + " has no data");
    }
    var data = [c.x];
    var points = 0;
    c.series.forEach(function (s) {
      if (s.values.length !== c.x.length) {
        throw new Error("chart " + c.id + ": series " + s.label + " has " + s.values.length + " values for " + c.x.length + " x values");
      }
      data.push(s.values);
      s.values.forEach(function (v) {
        if (v != null) {
          points++;
        }
      });
    });
    var width = Math.max(320, el.clientWidth || 960);
    var u = new uPlot(options(c, width), data, el);
    charts.push({ el: el, plot: u });
    window.wsstormCharts.push({ id: c.id, points: points, width: u.width, height: u.height });
  }

  function resize() {
    charts.forEach(function (c) {
      var w = Math.max(320, c.el.clientWidth);
      if (w !== c.plot.width) {
        c.plot.setSize({ width: w, height: HEIGHT });
      }
    });
  }

  try {
    var data = JSON.parse(document.getElementById("wsstorm-data").textContent);
    data.charts.forEach(function (c) {
      try {
        build(c);
      } catch (e) {
        console.error("wsstorm: chart " + c.id + " could not be drawn:", e);
      }
    });
    var pending = 0;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(resize, 100);
    });
  } finally {
    document.body.dataset.rendered = "true";
  }
})();

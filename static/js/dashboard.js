/* Investigator dashboard: draws the charts from the page's data.json (and the
 * waterfall.json and swimmer.json rows) with Chart.js
 * (vendored, served by the app). Every number shown here is also in the "Numbers"
 * table and the CSV download under each chart. */
(function () {
  "use strict";

  var root = document.getElementById("dashboard-root");
  if (!root || typeof Chart === "undefined") return;
  var T = JSON.parse(document.getElementById("dashboard-strings").textContent);

  var BOR_COLORS = {
    "CR": "#1b7837",
    "PR": "#5aae61",
    "SD": "#f1b544",
    "NON-CR/NON-PD": "#8fa8c8",
    "PD": "#c0392b",
    "NE": "#9e9e9e"
  };
  var SWIMMER_MAX = 60;
  var SWIMMER_ROW_PX = 18;   // one readable y label per row
  var REF_LABEL_ROOM = 78;   // right margin of the waterfall for the reference-line labels

  function color(i, alpha) {
    var hue = (i * 137.508 + 200) % 360;
    return "hsla(" + hue.toFixed(0) + ", 62%, 42%, " + (alpha === undefined ? 1 : alpha) + ")";
  }

  function fail(id, message) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var p = document.createElement("p");
    p.className = "error chart-message";
    p.textContent = message;
    canvas.parentNode.parentNode.insertBefore(p, canvas.parentNode);
  }

  // Whiskers for bar charts: a dataset's `ci` is [[lower, upper], ...] in data units.
  var ciWhiskers = {
    id: "ciWhiskers",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      chart.data.datasets.forEach(function (ds, i) {
        if (!ds.ci || !chart.isDatasetVisible(i)) return;
        var meta = chart.getDatasetMeta(i);
        var scale = chart.scales[meta.vAxisID];
        ctx.save();
        ctx.strokeStyle = "#1d2733";
        ctx.lineWidth = 1.5;
        meta.data.forEach(function (bar, j) {
          var ci = ds.ci[j];
          if (!ci || ci[0] === null || ci[1] === null) return;
          var lo = scale.getPixelForValue(ci[0]);
          var hi = scale.getPixelForValue(ci[1]);
          var half = Math.min(8, (bar.width || 16) / 4);
          ctx.beginPath();
          ctx.moveTo(bar.x, lo); ctx.lineTo(bar.x, hi);
          ctx.moveTo(bar.x - half, lo); ctx.lineTo(bar.x + half, lo);
          ctx.moveTo(bar.x - half, hi); ctx.lineTo(bar.x + half, hi);
          ctx.stroke();
        });
        ctx.restore();
      });
    }
  };

  // Horizontal reference lines: options.plugins.refLines = [{value, label, color}].
  var refLines = {
    id: "refLines",
    afterDatasetsDraw: function (chart, _args, options) {
      var lines = (options && options.lines) || [];
      var y = chart.scales.y, area = chart.chartArea, ctx = chart.ctx;
      lines.forEach(function (line) {
        var py = y.getPixelForValue(line.value);
        if (py < area.top || py > area.bottom) return;
        ctx.save();
        ctx.setLineDash([6, 4]);
        ctx.strokeStyle = line.color || "#555";
        ctx.beginPath(); ctx.moveTo(area.left, py); ctx.lineTo(area.right, py); ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = line.color || "#555";
        ctx.font = "12px system-ui, sans-serif";
        // in the right margin kept free for it (layout.padding.right), never on a bar
        ctx.textBaseline = "middle";
        ctx.fillText(line.label, area.right + 6, py);
        ctx.restore();
      });
    }
  };

  function borLegend(present) {
    return {
      labels: {
        generateLabels: function () {
          return Object.keys(BOR_COLORS).filter(function (k) { return present[k]; }).map(function (k) {
            return { text: k, fillStyle: BOR_COLORS[k], strokeStyle: BOR_COLORS[k], lineWidth: 0 };
          });
        }
      },
      onClick: function () {}
    };
  }

  function pct(x) { return x === null || x === undefined ? null : Math.round(x * 1000) / 10; }

  // --- charts ---------------------------------------------------------------------------

  function enrollmentChart(stats) {
    var e = stats.enrollment || {months: [], targets: {}};
    var months = e.months.map(function (m) { return m.month; });
    var codes = Object.keys(e.targets || {});
    var total = codes.length > 1 || !codes.length
      ? e.months.map(function (m) { return m.total; })
      : e.months.map(function (m) { return m.by_site[codes[0]] || 0; });
    var target = codes.length > 1 || !codes.length ? e.total_target : e.targets[codes[0]];
    var chart = new Chart(document.getElementById("canvas-enrollment"), {
      type: "line",
      data: {
        labels: months,
        datasets: [
          {label: T.total, data: total, borderColor: "#0b6e8a", backgroundColor: "rgba(11,110,138,.12)",
            borderWidth: 3, pointRadius: 0, fill: "origin", tension: 0},
          {label: T.totalTarget, data: months.map(function () { return target; }),
            borderColor: "#1d2733", borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0}
        ]
      },
      options: {
        maintainAspectRatio: false, animation: false,
        interaction: {mode: "index", intersect: false},
        scales: {
          x: {title: {display: true, text: T.month}, ticks: {maxTicksLimit: 12}},
          y: {beginAtZero: true, suggestedMax: target || undefined, title: {display: true, text: T.enrolled}}
        },
        plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}}
      }
    });
    siteMultiples(e, months, codes);
    return chart;
  }

  // Small multiples: one small chart per site on a shared y axis (the largest site
  // target), sites in order of their enrollment, so twenty sites stay readable.
  function siteMultiples(e, months, codes) {
    var holder = document.getElementById("enrollment-sites");
    if (!holder || codes.length < 2) return;
    var last = e.months.length ? e.months[e.months.length - 1].by_site : {};
    var ymax = 1;
    codes.forEach(function (code) { ymax = Math.max(ymax, e.targets[code] || 0, last[code] || 0); });
    codes = codes.slice().sort(function (a, b) { return (last[b] || 0) - (last[a] || 0) || (a < b ? -1 : 1); });
    holder.hidden = false;
    codes.forEach(function (code) {
      var cell = document.createElement("figure");
      cell.className = "multiple";
      cell.setAttribute("data-site", code);
      var caption = document.createElement("figcaption");
      caption.textContent = code + " · " + (last[code] || 0) + " / " + (e.targets[code] || "—");
      var box = document.createElement("div");
      box.className = "multiple-box";
      var canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", caption.textContent);
      box.appendChild(canvas);
      cell.appendChild(caption);
      cell.appendChild(box);
      holder.appendChild(cell);
      new Chart(canvas, {
        type: "line",
        data: {
          labels: months,
          datasets: [
            {data: e.months.map(function (m) { return m.by_site[code] || 0; }), borderColor: "#0b6e8a",
              backgroundColor: "rgba(11,110,138,.12)", fill: "origin", borderWidth: 2, pointRadius: 0},
            {data: months.map(function () { return e.targets[code]; }), borderColor: "#1d2733",
              borderDash: [4, 3], borderWidth: 1, pointRadius: 0}
          ]
        },
        options: {
          maintainAspectRatio: false, animation: false, events: [],
          scales: {x: {display: false}, y: {min: 0, max: ymax, ticks: {maxTicksLimit: 3, font: {size: 9}}}},
          plugins: {legend: {display: false}, tooltip: {enabled: false}}
        }
      });
    });
  }

  function rateGroups(stats) {
    var groups = [];
    var byArm = stats.by_arm || {};
    Object.keys(byArm).forEach(function (code) {
      groups.push({label: T.arm + " " + code, rates: byArm[code].rates});
    });
    groups.push({label: T.allPatients, rates: stats.overall.rates});
    var tl = stats.trial_level;
    if (tl) {
      Object.keys(tl.by_arm || {}).forEach(function (code) {
        groups.push({label: T.wholeTrial + ": " + T.arm + " " + code, rates: tl.by_arm[code].rates});
      });
      groups.push({label: T.wholeTrial, rates: tl.overall.rates});
    }
    return groups;
  }

  function ratesChart(stats) {
    var groups = rateGroups(stats);
    function ds(key, label, i) {
      return {
        label: label + " (" + T.ci + ")",
        data: groups.map(function (g) { return pct(g.rates[key].estimate); }),
        ci: groups.map(function (g) { return [pct(g.rates[key].ci_lower), pct(g.rates[key].ci_upper)]; }),
        backgroundColor: color(i, 0.75)
      };
    }
    return new Chart(document.getElementById("canvas-rates"), {
      type: "bar",
      data: {labels: groups.map(function (g) { return g.label; }), datasets: [ds("orr", T.orr, 0), ds("dcr", T.dcr, 3)]},
      plugins: [ciWhiskers],
      options: {
        maintainAspectRatio: false, animation: false,
        scales: {y: {min: 0, max: 100, title: {display: true, text: T.percent}}},
        plugins: {
          legend: {position: "bottom"},
          tooltip: {
            callbacks: {
              label: function (item) {
                var ci = item.dataset.ci[item.dataIndex];
                var v = item.parsed.y;
                return item.dataset.label + ": " + (v === null ? "NE" : v.toFixed(1) + "%") +
                  (ci && ci[0] !== null ? " [" + ci[0].toFixed(1) + "–" + ci[1].toFixed(1) + "]" : "");
              }
            }
          }
        }
      }
    });
  }

  // The waterfall's data (waterfall.json): one bar per patient, or above the server's
  // limit the patients counted in bins of best change, stacked by best overall response.
  function waterfallChart(data) {
    if (data.binned) return waterfallBinned(data);
    var rows = data.rows || [];
    var present = {};
    rows.forEach(function (r) { present[r.bor] = true; });
    return new Chart(document.getElementById("canvas-waterfall"), {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.subject_id; }),
        datasets: [{
          label: T.bestChange,
          data: rows.map(function (r) { return r.best_change_pct; }),
          backgroundColor: rows.map(function (r) { return BOR_COLORS[r.bor] || BOR_COLORS.NE; }),
          barPercentage: 1.0, categoryPercentage: rows.length > 200 ? 1.0 : 0.9,
          bor: rows.map(function (r) { return r.bor; })
        }]
      },
      plugins: [refLines],
      options: {
        maintainAspectRatio: false, animation: false,
        layout: {padding: {right: REF_LABEL_ROOM}},
        scales: {
          x: {ticks: {display: rows.length <= 40, autoSkip: false, maxRotation: 90, minRotation: 60}, title: {display: true, text: T.patient}},
          y: {suggestedMin: -100, suggestedMax: 60, title: {display: true, text: T.bestChange}}
        },
        plugins: {
          legend: borLegend(present),
          refLines: {lines: [{value: -30, label: T.pr30, color: "#1b7837"}, {value: 20, label: T.pd20, color: "#c0392b"}]},
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.bor[item.dataIndex] + ": " + item.parsed.y.toFixed(1) + "%";
              }
            }
          }
        }
      }
    });
  }

  function waterfallBinned(data) {
    var bins = data.bins || [];
    var note = document.getElementById("waterfall-note");
    if (note) {
      note.textContent = T.binned.replace("%(total)s", data.total).replace("%(width)s", data.bin_width);
    }
    var labels = bins.map(function (b) {
      return b.to === null ? "≥ " + b.from + "%" : b.from + "% … " + b.to + "%";
    });
    var datasets = Object.keys(BOR_COLORS).filter(function (k) {
      return bins.some(function (b) { return b.by_bor[k]; });
    }).map(function (k) {
      return {
        label: k, backgroundColor: BOR_COLORS[k], barPercentage: 1.0, categoryPercentage: 0.95,
        data: bins.map(function (b) { return b.by_bor[k] || 0; })
      };
    });
    return new Chart(document.getElementById("canvas-waterfall"), {
      type: "bar",
      data: {labels: labels, datasets: datasets},
      options: {
        maintainAspectRatio: false, animation: false,
        scales: {
          x: {stacked: true, ticks: {autoSkip: true, maxRotation: 90, minRotation: 60}, title: {display: true, text: T.bestChange}},
          y: {stacked: true, beginAtZero: true, title: {display: true, text: T.patients}}
        },
        plugins: {legend: {position: "top", labels: {boxWidth: 12}}, tooltip: {mode: "index", intersect: false}}
      }
    });
  }

  // The swimmer's data (swimmer.json): its rows, longest on study first, and the total.
  function swimmerChart(data) {
    var rows = (data.rows || []).slice(0, SWIMMER_MAX);
    var total = data.total || 0;
    var note = document.getElementById("swimmer-note");
    if (note && total > rows.length) {
      note.textContent = T.showing.replace("%(n)s", rows.length).replace("%(total)s", total);
    }
    var labels = rows.map(function (r) { return r.subject_id; });
    var present = {};
    rows.forEach(function (r) { present[r.bor] = true; });
    var canvas = document.getElementById("canvas-swimmer");
    // the chart grows with its rows so that no two subject ids overlap
    canvas.parentNode.style.height = Math.max(320, rows.length * SWIMMER_ROW_PX + 110) + "px";
    function markers(label, style, colorValue, pick) {
      var data = [];
      rows.forEach(function (r) {
        var x = pick(r);
        if (x !== null && x !== undefined) data.push({x: x, y: r.subject_id});
      });
      return {
        type: "scatter", label: label, data: data, pointStyle: style, pointRadius: 6,
        pointBorderWidth: 2, borderColor: colorValue, backgroundColor: colorValue, marker: true,
        order: 1  // drawn over the bars
      };
    }
    return new Chart(document.getElementById("canvas-swimmer"), {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          {
            label: T.daysOnStudy, indexAxis: "y",
            data: rows.map(function (r) { return r.days_on_study; }),
            backgroundColor: rows.map(function (r) { return BOR_COLORS[r.bor] || BOR_COLORS.NE; }),
            bor: rows.map(function (r) { return r.bor; }), barPercentage: 0.8, order: 2
          },
          markers(T.firstResponse, "circle", "#0b6e8a", function (r) { return r.first_response_day; }),
          markers(T.progression, "triangle", "#7a1d12", function (r) { return r.progression_day; }),
          markers(T.death, "crossRot", "#000", function (r) { return r.died ? r.days_on_study : null; })
        ]
      },
      options: {
        indexAxis: "y", maintainAspectRatio: false, animation: false,
        scales: {
          x: {type: "linear", beginAtZero: true, title: {display: true, text: T.daysOnStudy}},
          y: {type: "category", labels: labels, ticks: {autoSkip: false, font: {size: 10}}}
        },
        plugins: {
          legend: {
            position: "bottom",
            labels: {
              usePointStyle: true, boxWidth: 10,
              // Bars by best overall response, then the markers.
              generateLabels: function (chart) {
                var bor = Object.keys(BOR_COLORS).filter(function (k) { return present[k]; }).map(function (k) {
                  return {text: k, fillStyle: BOR_COLORS[k], strokeStyle: BOR_COLORS[k], pointStyle: "rect", lineWidth: 0};
                });
                var marks = Chart.defaults.plugins.legend.labels.generateLabels(chart).filter(function (l) {
                  return chart.data.datasets[l.datasetIndex].marker;
                });
                return bor.concat(marks);
              }
            },
            onClick: function () {}
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                if (item.dataset.marker) return item.dataset.label + ": " + item.parsed.x;
                return item.dataset.bor[item.dataIndex] + ", " + item.parsed.x + " " + T.daysOnStudy;
              }
            }
          }
        }
      }
    });
  }

  function kmGroups(stats, kind) {
    var byArm = stats.by_arm;
    if (byArm && Object.keys(byArm).length) {
      return Object.keys(byArm).map(function (code) { return {label: T.arm + " " + code, km: byArm[code][kind]}; });
    }
    return [{label: T.allPatients, km: stats.overall[kind]}];
  }

  // A curve of data.json: `curve` (columns) where S(t) changes, `censor_marks` where
  // patients were censored (aggregated in time bins on a large trial).
  function kmChart(stats, kind) {
    var datasets = [];
    // the curve is stored in days; the axis shows months (30.4375 days)
    function mo(days) { return Math.round(days / 30.4375 * 1000) / 1000; }
    function points(times, values) {
      return [{x: 0, y: 1}].concat(times.map(function (t, j) { return {x: mo(t), y: values[j]}; }));
    }
    kmGroups(stats, kind).forEach(function (g, i) {
      var c = g.km.curve || {time: [], survival: [], ci_lower: [], ci_upper: []};
      var m = g.km.censor_marks || {time: [], survival: [], count: []};
      datasets.push({label: g.label, data: points(c.time, c.survival), stepped: "before", borderColor: color(i * 3),
        backgroundColor: color(i * 3), borderWidth: 2, pointRadius: 0, pointHoverRadius: 0, fill: false});
      datasets.push({label: g.label + " · " + T.ciBand, band: true, data: points(c.time, c.ci_lower), stepped: "before",
        borderWidth: 0, pointRadius: 0, fill: false, spanGaps: true});
      datasets.push({label: g.label + " · " + T.ciBand, band: true, data: points(c.time, c.ci_upper), stepped: "before",
        borderWidth: 0, pointRadius: 0, fill: "-1", backgroundColor: color(i * 3, 0.15), spanGaps: true});
      datasets.push({label: g.label + " · " + T.censored, band: true, showLine: false, pointStyle: "cross",
        pointRadius: 4, pointHoverRadius: 4, borderColor: color(i * 3), borderWidth: 2,
        data: m.time.map(function (t, j) { return {x: mo(t), y: m.survival[j], n: m.count[j]}; })});
    });
    return new Chart(document.getElementById("canvas-km-" + kind), {
      type: "line",
      data: {datasets: datasets},
      options: {
        maintainAspectRatio: false, animation: false, parsing: true,
        interaction: {mode: "nearest", intersect: false},
        scales: {
          x: {type: "linear", beginAtZero: true, title: {display: true, text: T.months}},
          y: {min: 0, max: 1, title: {display: true, text: T.survival}}
        },
        plugins: {
          legend: {position: "bottom", labels: {filter: function (item, data) { return !data.datasets[item.datasetIndex].band; }}},
          tooltip: {filter: function (item) { return !item.dataset.band; }}
        }
      }
    });
  }

  function draw(stats, waterfall, swimmer) {
    var builders = [
      ["canvas-enrollment", function () { return enrollmentChart(stats); }],
      ["canvas-rates", function () { return ratesChart(stats); }],
      ["canvas-waterfall", function () { return waterfallChart(loaded(waterfall)); }],
      ["canvas-swimmer", function () { return swimmerChart(loaded(swimmer)); }],
      ["canvas-km-pfs", function () { return kmChart(stats, "pfs"); }],
      ["canvas-km-os", function () { return kmChart(stats, "os"); }]
    ];
    builders.forEach(function (b) {
      if (!document.getElementById(b[0])) return;
      try {
        b[1]();
      } catch (err) {
        fail(b[0], T.loadError);
        if (window.console) console.error(err);
      }
    });
    document.body.setAttribute("data-charts-ready", "1");
  }

  function loaded(result) {
    if (!result || result.error) throw (result && result.error) || new Error("no data");
    return result;
  }

  var select = document.getElementById("id_site");
  if (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      });
  }

  // The per-patient rows come on their own (waterfall.json, swimmer.json): a failure
  // there fails that chart only.
  function optional(name) {
    var url = root.getAttribute(name);
    return url ? getJSON(url).catch(function (err) { return {error: err}; }) : Promise.resolve(null);
  }

  Promise.all([getJSON(root.getAttribute("data-url")), optional("data-waterfall-url"), optional("data-swimmer-url")])
    .then(function (results) { draw(results[0], results[1], results[2]); })
    .catch(function (err) {
      ["canvas-enrollment", "canvas-rates", "canvas-waterfall", "canvas-swimmer", "canvas-km-pfs", "canvas-km-os"]
        .forEach(function (id) { fail(id, T.loadError); });
      document.body.setAttribute("data-charts-ready", "error");
      if (window.console) console.error(err);
    });
})();

// The command dashboard's charts. Each chart card names its JSON endpoint
// (data-src) and kind (data-chart); this script fetches the figure and
// draws it with Apache ECharts. The page is complete without it: every
// figure is also a table. Clicking a bar, point or flow opens the records
// behind it.
(function () {
  'use strict';

  var labelsEl = document.getElementById('dash-labels');
  if (!labelsEl || typeof echarts === 'undefined') {
    return;
  }
  var labels = JSON.parse(labelsEl.textContent || '{}');
  function t(key) { return labels[key] || key; }

  var flowKinds = ['generated', 'transferred', 'utilised', 'disposed'];
  var colours = ['#1f4e79', '#c8102e', '#2e7d4f', '#b36b00', '#0d5c63', '#6a4c93', '#5b6770'];
  // Tooltips are drawn on the canvas, not as HTML, so that no inline style
  // meets the page's Content-Security-Policy.
  var tooltip = { renderMode: 'richText', confine: true };
  var grid = { left: 8, right: 16, top: 40, bottom: 8, containLabel: true };

  function item(value, url) { return { value: value, url: url }; }

  var charts = {
    flows: function (d) {
      return {
        legend: { top: 0 }, tooltip: Object.assign({ trigger: 'axis' }, tooltip), grid: grid,
        xAxis: { type: 'category', data: d.months }, yAxis: { type: 'value', name: t('dash.col.tonnes') },
        series: d.series.map(function (s) {
          return {
            name: t('dash.flow.' + s.kind), type: 'bar',
            data: s.values.map(function (v) { return item(v, s.url); })
          };
        })
      };
    },
    categories: function (d) {
      var cats = d.categories.map(function (c) { return c.category; });
      return {
        legend: { top: 0 }, tooltip: Object.assign({ trigger: 'axis' }, tooltip), grid: grid,
        xAxis: { type: 'category', data: cats }, yAxis: { type: 'value', name: t('dash.col.tonnes') },
        series: flowKinds.map(function (k) {
          return {
            name: t('dash.flow.' + k), type: 'bar',
            data: d.categories.map(function (c) { return item(c[k + '_t'], c.url); })
          };
        })
      };
    },
    sankey: function (d) {
      return {
        tooltip: Object.assign({ trigger: 'item' }, tooltip),
        series: [{
          type: 'sankey', left: 8, right: 120, top: 8, bottom: 8, emphasis: { focus: 'adjacency' },
          nodeAlign: 'left', lineStyle: { color: 'gradient', curveness: 0.5 },
          data: d.nodes.map(function (n) { return { name: n.name, url: n.url }; }),
          links: d.links.map(function (l) { return { source: l.source, target: l.target, value: l.value, url: l.url }; })
        }]
      };
    },
    transit: function (d) {
      var keys = ['submitted', 'in_transit', 'overdue'];
      return {
        tooltip: Object.assign({ trigger: 'axis' }, tooltip), grid: grid,
        xAxis: { type: 'category', data: keys.map(function (k) { return t('dash.transit.' + k); }) },
        yAxis: { type: 'value', minInterval: 1 },
        series: [{
          type: 'bar', name: t('dash.col.count'),
          data: keys.map(function (k, i) {
            return { value: d[k], url: d.urls[k], itemStyle: { color: i === 2 ? '#c8102e' : '#1f4e79' } };
          })
        }]
      };
    },
    alerts: function (d) {
      var kinds = [], regions = [];
      d.counts.forEach(function (c) {
        if (kinds.indexOf(c.kind) < 0) { kinds.push(c.kind); }
        if (regions.indexOf(c.region_name) < 0) { regions.push(c.region_name); }
      });
      return {
        legend: { top: 0 }, tooltip: Object.assign({ trigger: 'axis' }, tooltip), grid: grid,
        xAxis: { type: 'value', minInterval: 1 },
        yAxis: { type: 'category', data: kinds.map(function (k) { return t('alert_kind.' + k); }) },
        series: regions.map(function (r) {
          return {
            name: r, type: 'bar', stack: 'alerts',
            data: kinds.map(function (k) {
              var c = d.counts.filter(function (x) { return x.kind === k && x.region_name === r; })[0];
              return c ? item(c.count, c.url) : item(0, null);
            })
          };
        })
      };
    },
    regions: function (d) {
      return {
        legend: { top: 0 }, tooltip: Object.assign({ trigger: 'axis' }, tooltip), grid: grid,
        xAxis: { type: 'category', data: d.regions.map(function (r) { return r.name; }) },
        yAxis: { type: 'value', name: t('dash.col.tonnes') },
        series: flowKinds.map(function (k) {
          return {
            name: t('dash.flow.' + k), type: 'bar',
            data: d.regions.map(function (r) { return item(r[k + '_t'], r.url); })
          };
        })
      };
    },
    places: function (d) {
      // Units placed by longitude and latitude, one series per first role.
      var groups = {};
      d.places.forEach(function (p) {
        var role = p.roles[0] || 'other';
        (groups[role] = groups[role] || []).push({ name: p.name, value: [p.longitude, p.latitude, p.facilities], url: p.url });
      });
      return {
        legend: { top: 0 }, tooltip: Object.assign({ trigger: 'item', formatter: '{b}' }, tooltip), grid: grid,
        xAxis: { type: 'value', scale: true, name: t('dash.col.longitude') },
        yAxis: { type: 'value', scale: true, name: t('dash.col.latitude') },
        series: Object.keys(groups).sort().map(function (role) {
          return {
            name: t('unit_role.' + role), type: 'scatter', data: groups[role],
            symbolSize: function (v) { return 8 + Math.min(v[2], 6) * 2; }
          };
        })
      };
    },
    capacity: function (d) {
      var names = d.receivers.map(function (r) { return r.name; });
      return {
        legend: { top: 0 }, tooltip: Object.assign({ trigger: 'axis' }, tooltip), grid: grid,
        xAxis: { type: 'value', name: t('dash.col.tonnes') }, yAxis: { type: 'category', data: names },
        series: [
          { name: t('dash.col.capacity_t'), type: 'bar', data: d.receivers.map(function (r) { return item(r.capacity_t, r.url); }) },
          { name: t('dash.col.used_t'), type: 'bar', data: d.receivers.map(function (r) { return item(r.used_t, r.url); }) }
        ]
      };
    }
  };

  function draw(card) {
    var kind = card.getAttribute('data-chart');
    var build = charts[kind];
    var el = card.querySelector('.chart-canvas');
    if (!build || !el) {
      return;
    }
    fetch(card.getAttribute('data-src'), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return r.json();
      })
      .then(function (data) {
        card.classList.add('drawn');
        var chart = echarts.init(el, null, { renderer: 'canvas' });
        var option = build(data);
        option.color = colours;
        option.animation = false;
        option.aria = { enabled: true };
        chart.setOption(option);
        chart.on('click', function (p) {
          var url = p.data && p.data.url;
          if (url) { window.location.assign(url); }
        });
        window.addEventListener('resize', function () { chart.resize(); });
        card.setAttribute('data-ready', 'true');
      })
      .catch(function () {
        // The table stays: it is the same figure.
        card.classList.remove('drawn');
        card.classList.add('chart-failed');
        card.setAttribute('data-ready', 'failed');
      });
  }

  document.querySelectorAll('[data-chart]').forEach(draw);
})();

// Source reader: show the facts behind a highlight on hover, focus, tap or text selection, and highlight and
// centre the quote a #q-START-END link points to. The page works without this script: marks carry titles.
(function () {
  'use strict';
  var text = document.getElementById('doc-text');
  var data = document.getElementById('doc-facts');
  if (!text || !data) return;
  var facts = JSON.parse(data.textContent);
  var panel = document.getElementById('fact-panel');
  var list = document.getElementById('panel-list');
  var hint = document.getElementById('panel-hint');
  var active = [];

  function indexesOf(marks) {
    var seen = {};
    var out = [];
    marks.forEach(function (m) {
      (m.dataset.facts || '').split(' ').forEach(function (i) {
        if (i !== '' && !seen[i]) { seen[i] = true; out.push(Number(i)); }
      });
    });
    return out;
  }

  function show(marks) {
    active.forEach(function (m) { m.classList.remove('active'); });
    active = marks;
    active.forEach(function (m) { m.classList.add('active'); });
    var idx = indexesOf(marks);
    list.textContent = '';
    idx.forEach(function (i) {
      var f = facts[i];
      var li = document.createElement('li');
      li.appendChild(document.createTextNode(f.statement + ' '));
      var who = document.createElement('a');
      who.href = f.href;
      who.textContent = f.subject;
      var fact = document.createElement('a');
      fact.href = f.fact;
      fact.textContent = '¶';
      fact.title = 'This fact\'s page';
      fact.className = 'permalink';
      li.appendChild(document.createTextNode('— '));
      li.appendChild(who);
      li.appendChild(document.createTextNode(' (' + f.relation + ') '));
      li.appendChild(fact);
      list.appendChild(li);
    });
    hint.textContent = idx.length
      ? 'This passage supports ' + idx.length + (idx.length === 1 ? ' fact:' : ' facts:')
      : 'Hover over, focus (Tab) or select a highlighted passage to see the facts it supports.';
    panel.classList.toggle('open', idx.length > 0);
  }

  function fromEvent(e) {
    var m = e.target.closest && e.target.closest('mark.cite');
    if (m) show([m]);
  }
  text.addEventListener('mouseover', fromEvent);
  text.addEventListener('focusin', fromEvent);
  text.addEventListener('click', fromEvent);

  document.addEventListener('selectionchange', function () {
    var sel = document.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    var range = sel.getRangeAt(0);
    if (!text.contains(range.commonAncestorContainer) && !range.intersectsNode(text)) return;
    var marks = Array.prototype.filter.call(text.querySelectorAll('mark.cite'), function (m) {
      return range.intersectsNode(m);
    });
    if (marks.length) show(marks);
  });

  var close = document.createElement('button');
  close.type = 'button';
  close.className = 'panel-close';
  close.textContent = 'Close';
  close.addEventListener('click', function () { panel.classList.remove('open'); });
  panel.appendChild(close);

  // A bare #q-START-END fragment (no ?start=&end=) is highlighted here; either way the quote is centred.
  function toTarget() {
    var m = /^#q-(\d+)-(\d+)$/.exec(location.hash);
    if (!m) return;
    var s = Number(m[1]);
    var e = Number(m[2]);
    var targets = text.querySelectorAll('mark.target');
    if (!targets.length) {
      text.querySelectorAll('mark.cite').forEach(function (mk) {
        if (Number(mk.dataset.s) >= s && Number(mk.dataset.e) <= e) mk.classList.add('target');
      });
      targets = text.querySelectorAll('mark.target');
    }
    if (targets.length) {
      targets[0].scrollIntoView({ block: 'center' });
      var cited = Array.prototype.filter.call(targets, function (t) { return t.classList.contains('cite'); });
      if (cited.length && window.matchMedia('(min-width: 52rem)').matches) show(cited);
    }
  }
  window.addEventListener('hashchange', function () {
    text.querySelectorAll('mark.target').forEach(function (t) { t.classList.remove('target'); });
    toTarget();
  });
  toTarget();
  // Handlers bound and the cited quote centred: browser tests wait for this before reading or hovering.
  text.dataset.ready = 'true';
}());

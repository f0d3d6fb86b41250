// Browse: filter the concept index as you type (the form also works without this script, on the server).
(function () {
  'use strict';
  var input = document.getElementById('filter-q');
  var select = document.getElementById('filter-type');
  var status = document.getElementById('filter-status');
  if (!input || !select) return;
  var groups = document.querySelectorAll('.type-group');

  function apply() {
    var q = input.value.trim().toLowerCase();
    var type = select.value;
    var shown = 0;
    groups.forEach(function (g) {
      var inType = !type || g.id === 'type-' + type;
      var n = 0;
      g.querySelectorAll('li[data-search]').forEach(function (li) {
        var ok = inType && (!q || li.dataset.search.indexOf(q) !== -1);
        li.hidden = !ok;
        if (ok) n += 1;
      });
      g.hidden = n === 0;
      shown += n;
    });
    status.textContent = shown + (shown === 1 ? ' concept' : ' concepts') + ' shown';
  }
  input.addEventListener('input', apply);
  select.addEventListener('change', apply);
  input.dataset.ready = 'true';  // filtering as you type is bound: browser tests wait for this before typing
}());

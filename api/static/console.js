// SPARQL console: Ctrl+Enter (Cmd+Enter) runs the query. Tab keeps its usual meaning, so focus never gets stuck.
(function () {
  'use strict';
  var editor = document.getElementById('query');
  if (!editor) return;
  editor.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
      e.preventDefault();
      if (editor.form.requestSubmit) editor.form.requestSubmit(); else editor.form.submit();
    }
  });
  editor.dataset.ready = 'true';  // Ctrl+Enter is bound: browser tests wait for this before pressing it
}());

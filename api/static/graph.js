// Graph view: draws the elements the server laid out (networkx) with cytoscape.js. Click a node to move there;
// drag to pan; wheel, pinch or the buttons to zoom. The links are also listed as HTML below the drawing.
// Once the drawing is interactive (preset layout stopped, first frame drawn, every handler bound) the container
// gets data-ready="true" and the cytoscape instance is exposed as window.hccGraph; browser tests wait for that.
(function () {
  'use strict';
  var box = document.getElementById('cy');
  var data = JSON.parse(document.getElementById('graph-data').textContent);
  var TYPE_COLORS = {
    TreatmentModality: '#0b5cad', CombinationTherapy: '#1971c2', Disease: '#212529', Indication: '#2f9e44',
    Contraindication: '#c92a2a', Mechanism: '#7048e8', AdverseEffect: '#e8590c', Limitation: '#a61e4d',
    Advantage: '#0ca678', Outcome: '#12b886', Drug: '#d6336c', EmbolicAgent: '#ae3ec9', ImagingModality: '#1098ad',
    ApproachRoute: '#3bc9db', ProcedureStep: '#868e96', TechnicalRequirement: '#495057', ClinicalFinding: '#f59f00',
    Recommendation: '#5c940d', Comparison: '#364fc7', PrognosticFactor: '#e67700', FollowUpRule: '#66a80f',
    ResponseCategory: '#9c36b5', EvaluationMethod: '#22b8cf', Concept: '#8aa1bd'
  };
  var REL_COLORS = {
    hasIndication: '#2f9e44', hasContraindication: '#c92a2a', hasRelativeContraindication: '#e03131',
    hasMechanism: '#7048e8', hasAdverseEffect: '#e8590c', hasLimitation: '#a61e4d', hasAdvantage: '#0ca678',
    subClassOf: '#0f2a47', combinedWith: '#1971c2', hasSubtype: '#0f2a47', hasComparison: '#364fc7'
  };
  document.querySelectorAll('.swatch[data-type]').forEach(function (s) {
    s.style.background = TYPE_COLORS[s.dataset.type] || TYPE_COLORS.Concept;
  });
  document.querySelectorAll('.line[data-relation]').forEach(function (s) {
    s.style.background = REL_COLORS[s.dataset.relation] || '#adb5bd';
  });
  if (typeof window.cytoscape !== 'function') {
    box.classList.add('missing');
    box.textContent = 'The interactive drawing could not load (cytoscape.js is missing); the links are listed below.';
    box.dataset.ready = 'missing';  // this script is done, but there is no drawing to interact with
    return;
  }
  var focus = data.view === 'focus';
  function short(s) { return s.length > 44 ? s.slice(0, 42) + '…' : s; }
  function typeColor(ele) { return TYPE_COLORS[ele.data('type')] || TYPE_COLORS.Concept; }
  function relColor(ele) { return REL_COLORS[ele.data('relation')] || '#adb5bd'; }

  var cy = window.cytoscape({
    container: box,
    elements: data.elements,
    layout: { name: 'preset', fit: true, padding: 30 },
    minZoom: 0.05, maxZoom: 4, wheelSensitivity: 0.25, boxSelectionEnabled: false,
    style: [
      { selector: 'node', style: {
        'background-color': typeColor, width: 14, height: 14, label: function (e) { return short(e.data('label')); },
        'font-size': focus ? 10 : 8, 'text-wrap': 'wrap', 'text-max-width': 120, 'text-valign': 'bottom',
        'text-margin-y': 3, color: '#1d2430', 'min-zoomed-font-size': focus ? 6 : 9,
        'text-background-color': '#fbfcfe', 'text-background-opacity': 0.75, 'text-background-padding': 1 } },
      { selector: 'node[?modality]', style: {
        width: 28, height: 28, shape: 'round-rectangle', 'font-size': focus ? 12 : 16, 'font-weight': 'bold',
        'min-zoomed-font-size': 4 } },
      { selector: 'node[type = "Disease"]', style: {
        width: 24, height: 24, shape: 'diamond', 'font-weight': 'bold', 'min-zoomed-font-size': 4 } },
      { selector: 'node[?focus]', style: {
        width: 46, height: 46, 'border-width': 4, 'border-color': '#f5a623', 'font-size': 15 } },
      { selector: 'edge', style: {
        width: 1.2, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.7,
        'line-color': relColor, 'target-arrow-color': relColor, label: 'data(label)', 'font-size': 8,
        'text-rotation': 'autorotate', 'min-zoomed-font-size': focus ? 7 : 10, color: '#5a6475',
        'text-background-color': '#ffffff', 'text-background-opacity': 0.85, 'text-background-padding': 1 } },
      { selector: 'node[?caption]', style: {
        'background-opacity': 0, width: 1, height: 1, 'font-size': 15, 'font-weight': 'bold', color: '#0f2a47',
        'text-valign': 'center', 'text-max-width': 170, 'min-zoomed-font-size': 0, events: 'no',
        'text-background-opacity': 0.85 } },
      { selector: 'edge[relation = "subClassOf"]', style: { 'line-style': 'dashed', width: 2 } },
      { selector: '.faded', style: { opacity: 0.12 } },
      { selector: '.near', style: { 'min-zoomed-font-size': 0 } }
    ]
  });

  // Captions and modality names keep a readable size on screen at any zoom.
  function keepReadable() {
    var z = cy.zoom();
    // capped, so on a narrow screen (small zoom to fit) captions shrink instead of piling up
    var grow = Math.min(Math.max(1 / z, 1), 2.4);
    cy.batch(function () {
      cy.nodes('[?caption]').style({ 'font-size': 12 * grow, 'text-max-width': 150 * grow });
      cy.nodes('[?focus]').style({ 'font-size': 13 * grow, 'text-max-width': 160 * grow });
      cy.nodes('[?modality][!focus], node[type = "Disease"]').style(
        { 'font-size': (focus ? 10 : 11) * grow, 'text-max-width': 120 * grow });
    });
  }
  cy.on('zoom', keepReadable);
  keepReadable();

  var hover = document.getElementById('graph-hover');
  // The hint must never move the drawing: a hint wrapping onto a second line pushed the canvas down under the
  // pointer (by 14 px on a laptop, up to 78 px on a phone) without a scroll or resize event, so cytoscape's cached
  // canvas offset went stale and clicks landed beside the node. One line, cut with an ellipsis; the live region
  // still announces the whole text.
  hover.style.flex = '1 1 0';
  hover.style.minWidth = '0';
  hover.style.whiteSpace = 'nowrap';
  hover.style.overflow = 'hidden';
  hover.style.textOverflow = 'ellipsis';
  cy.on('tap', 'node', function (e) { window.location.href = '/graph/' + e.target.data('local'); });
  cy.on('mouseover', 'node', function (e) {
    var near = e.target.closedNeighborhood();
    cy.elements().not(near).addClass('faded');
    near.addClass('near');
    box.style.cursor = 'pointer';
    hover.textContent = e.target.data('label') + ' (' + e.target.data('type') + ', ' + e.target.data('degree') +
      ' links): click to go there';
  });
  cy.on('mouseout', 'node', function () {
    cy.elements().removeClass('faded near');
    box.style.cursor = '';
    hover.textContent = '';
  });
  document.querySelectorAll('[data-zoom]').forEach(function (b) {
    b.addEventListener('click', function () {
      var how = b.dataset.zoom;
      if (how === 'fit') { cy.fit(undefined, 30); return; }
      var level = cy.zoom() * (how === 'in' ? 1.4 : 1 / 1.4);
      cy.zoom({ level: level, renderedPosition: { x: box.clientWidth / 2, y: box.clientHeight / 2 } });
    });
  });

  // Ready: the preset layout ran inside the constructor (cy.ready fires once it has stopped and the view is fitted),
  // every handler above is bound, and cytoscape has drawn its first frame (the 'render' event, which comes from its
  // requestAnimationFrame loop, so never before this line). Only then is the instance exposed and the flag set.
  var drawn = false;
  function markReady() {
    if (!drawn || !cy.isReady() || box.dataset.ready === 'true') return;
    window.hccGraph = cy;
    box.dataset.ready = 'true';
  }
  cy.one('render', function () { drawn = true; markReady(); });
  cy.ready(markReady);
}());

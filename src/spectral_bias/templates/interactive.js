(function () {
  var roots = document.querySelectorAll('div.sb-interactive[data-sb-id="{{uid}}"]');
  roots.forEach(function (root) {
    if (root.getAttribute('data-sb-ready') === '1') { return; }
    root.setAttribute('data-sb-ready', '1');
    var frames = JSON.parse(root.querySelector('script.sb-frames').textContent);
    var labels = JSON.parse(root.querySelector('script.sb-labels').textContent);
    var slider = root.querySelector('input.sb-slider');
    var img = root.querySelector('img.sb-frame');
    var out = root.querySelector('span.sb-value');
    var btn = root.querySelector('button.sb-play');
    var timer = null;
    function show(i) {
      i = Math.max(0, Math.min(frames.length - 1, i | 0));
      img.src = 'data:image/png;base64,' + frames[i];
      out.textContent = labels[i];
      slider.value = i;
      root.setAttribute('data-sb-frame', String(i));
    }
    function stop() { if (timer) { clearInterval(timer); timer = null; } btn.textContent = '\u25B6 play'; }
    slider.addEventListener('input', function () { stop(); show(parseInt(slider.value, 10)); });
    slider.addEventListener('change', function () { show(parseInt(slider.value, 10)); });
    btn.addEventListener('click', function () {
      if (timer) { stop(); return; }
      btn.textContent = '\u23F8 pause';
      if (parseInt(slider.value, 10) >= frames.length - 1) { show(0); }
      timer = setInterval(function () {
        var i = parseInt(slider.value, 10) + 1;
        if (i >= frames.length) { stop(); return; }
        show(i);
      }, {{interval}});
    });
  });
})();

// The portal's only script, and an optional one: every page works without it. It shows times in
// the reader's chosen (or the browser's) time zone and as "2 hours ago" (the exact time on hover), and lets files be
// attached by pasting or dropping them onto a message form.
'use strict';

(function () {
  // --- times ---
  // The page's language, and the reader's chosen time zone (else the browser's).
  const root = document.documentElement;
  const lang = root.lang || undefined;
  const timeZone = root.dataset.tz || undefined;
  const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const exact = new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone });
  const steps = [['second', 60], ['minute', 60], ['hour', 24], ['day', 7], ['week', 4.35], ['month', 12], ['year', Infinity]];

  function ago(date) {
    let amount = (date.getTime() - Date.now()) / 1000;
    for (const [unit, size] of steps) {
      if (Math.abs(amount) < size) return relative.format(Math.round(amount), unit);
      amount /= size;
    }
    return exact.format(date);
  }

  function showTimes() {
    for (const t of document.querySelectorAll('time[datetime]')) {
      const date = new Date(t.getAttribute('datetime'));
      if (Number.isNaN(date.getTime())) continue;
      t.title = exact.format(date);
      t.textContent = ago(date);
    }
  }
  showTimes();
  setInterval(showTimes, 60 * 1000);

  // --- saved replies: inserted where the cursor is, without reloading the page ---
  for (const button of document.querySelectorAll('button[name=action][value=insert]')) {
    const form = button.form;
    const select = form.querySelector('select[name=saved]');
    const body = form.querySelector('textarea[name=body]');
    if (!select || !body) continue;
    button.addEventListener('click', (e) => {
      const option = select.selectedOptions[0];
      if (!option) return;
      e.preventDefault();
      const text = option.dataset.body;
      const [start, end] = [body.selectionStart, body.selectionEnd];
      const before = body.value.slice(0, start);
      const gap = before && !before.endsWith('\n') ? '\n\n' : '';
      body.value = before + gap + text + body.value.slice(end);
      body.focus();
      body.selectionStart = body.selectionEnd = start + gap.length + text.length;
    });
  }

  // --- pasting and dropping files ---
  function attach(form, files) {
    const input = form.querySelector('input[type=file][name=files]');
    if (!input || !files.length) return false;
    const all = new DataTransfer();
    for (const f of input.files) all.items.add(f);
    for (const f of files) {
      // A pasted screenshot arrives as "image.png"; give each its own name.
      const named = f.name && f.name !== 'image.png' ? f
        : new File([f], `pasted-${new Date().toISOString().replace(/[:.]/g, '-')}-${all.files.length + 1}.${(f.type.split('/')[1] || 'png')}`, { type: f.type });
      all.items.add(named);
    }
    input.files = all.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    return true;
  }

  for (const form of document.querySelectorAll('form[enctype="multipart/form-data"]')) {
    const input = form.querySelector('input[type=file][name=files]');
    if (!input) continue;
    const list = document.createElement('p');
    list.className = 'hint attached';
    list.setAttribute('aria-live', 'polite');
    input.insertAdjacentElement('afterend', list);
    input.addEventListener('change', () => {
      const names = [...input.files].map((f) => f.name);
      list.textContent = names.length ? `${root.dataset.attached || 'Attached:'} ${names.join(', ')}` : '';
    });
    form.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData ? e.clipboardData.files : [])];
      if (attach(form, files)) e.preventDefault();
    });
    form.addEventListener('dragover', (e) => {
      if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) {
        e.preventDefault();
        form.classList.add('dropping');
      }
    });
    form.addEventListener('dragleave', () => form.classList.remove('dropping'));
    form.addEventListener('drop', (e) => {
      form.classList.remove('dropping');
      if (e.dataTransfer && attach(form, [...e.dataTransfer.files])) e.preventDefault();
    });
  }
})();

// Small progressive enhancements; every page works without this file.
document.addEventListener("submit", (event) => {
  // Stop accidental double submits in the browser. The server settles each action once anyway.
  const form = event.target;
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "true";
  for (const button of form.querySelectorAll("button[type=submit], input[type=submit]")) {
    setTimeout(() => { button.disabled = true; }, 0);
  }
});

"use strict";
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  const body = {
    username: document.getElementById("username").value,
    password: document.getElementById("password").value,
    set_cookie: true,
  };
  try {
    const response = await fetch("/api/v1/login/access-token", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!response.ok) {
      const data = await response.json();
      error.textContent = data.detail || ("sign-in failed: " + response.status);
      return;
    }
    window.location.assign("/board");
  } catch (e) {
    error.textContent = "the service cannot be reached: " + e;
  }
});

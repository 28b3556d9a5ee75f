// The worker lookup form: hashes the typed name in the browser and asks for the hash only.
import { sha256Hex } from "./sha256.js";

const form = document.getElementById("lookup");
const input = document.getElementById("worker-name");
const hidden = document.getElementById("worker-hash");
if (form && input && hidden) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (name === "") return;
    const hash = await sha256Hex(name);
    hidden.value = hash;
    location.assign("/worker/sha256?hash=" + hash);
  });
}

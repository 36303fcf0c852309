// The dashboard's entry point: starts the three panels once the page has loaded.
import { byId } from "./dom";
import { KeysPanel } from "./keys_panel";
import { startMembersPanel } from "./members_panel";
import { WatchPanel } from "./watch_panel";

function main(): void {
  byId("origin").textContent = window.location.host;
  startMembersPanel();
  new KeysPanel().start();
  new WatchPanel().start();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
else main();

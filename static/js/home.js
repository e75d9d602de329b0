// Home page: live counters and the ticker of recent consultations (live_stats.js).
import { keepLive } from "./live_stats.js";

const stats = document.getElementById("live-stats");
if (stats) {
  keepLive({
    stats,
    ticker: document.getElementById("ticker"),
    updated: document.getElementById("stats-updated"),
  });
}

// The cluster panel: who leads, the revision, and one row per member, refreshed every second.
import { byId, errorText, h, replaceChildren } from "./dom";
import { ClusterReader, type ClusterState, type Health, type MemberState } from "./cluster_state";

const REFRESH_MS = 1000;

const HEALTH_LABEL: Record<Health, string> = {
  healthy: "healthy",
  "no-leader": "no leader",
  unreachable: "unreachable",
};

function num(value: bigint | undefined): string {
  return value === undefined ? "–" : value.toString();
}

function memberRow(m: MemberState, leaderId: string | null): HTMLTableRowElement {
  const s = m.status;
  const role = s?.role ?? (m.isLearner ? "learner" : "–");
  const isLeader = m.id === leaderId;
  return h(
    "tr",
    { class: `member ${m.health}${isLeader ? " leader" : ""}`, "data-member-id": m.id, "data-role": role, "data-health": m.health },
    h("td", {}, h("span", { class: "member-id" }, m.id), isLeader ? h("span", { class: "badge leader-badge" }, "leader") : null),
    h("td", { class: "addr" }, m.grpcAddr),
    h("td", {}, h("span", { class: `role role-${role}` }, role)),
    h("td", { class: "num" }, num(s?.raftTerm)),
    h("td", { class: "num" }, num(s?.commitIndex)),
    h("td", { class: "num" }, num(s?.appliedIndex)),
    h("td", { class: "num" }, num(s?.header?.revision)),
    h("td", { title: m.error ?? "" }, h("span", { class: `health health-${m.health}` }, HEALTH_LABEL[m.health])),
  );
}

function renderState(state: ClusterState): void {
  const leader = state.members.find((m) => m.id === state.leaderId);
  const leaderEl = byId("leader");
  leaderEl.textContent = leader ? leader.id : "none (election in progress?)";
  leaderEl.className = leader ? (leader.health === "unreachable" ? "value warn" : "value ok") : "value warn";
  byId("revision").textContent = state.revision?.toString() ?? "–";
  byId("term").textContent = state.term?.toString() ?? "–";
  const healthy = state.members.filter((m) => m.health === "healthy").length;
  byId("member-count").textContent = `${healthy} of ${state.members.length} healthy`;
  replaceChildren(byId("members-body"), state.members.map((m) => memberRow(m, state.leaderId)));
  const unreachable = state.members.filter((m) => m.health === "unreachable").map((m) => m.id);
  setStatus(
    unreachable.length ? `Unreachable: ${unreachable.join(", ")}` : "All members reachable",
    unreachable.length ? "warn" : "ok",
  );
}

function setStatus(text: string, kind: "ok" | "warn" | "error"): void {
  const el = byId("cluster-status");
  el.textContent = `${text} · updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
  el.className = `status ${kind}`;
}

/** Starts refreshing the panel; each refresh begins a second after the previous one ends. */
export function startMembersPanel(): void {
  const reader = new ClusterReader();
  const refresh = async () => {
    try {
      renderState(await reader.read());
    } catch (err) {
      setStatus(errorText(err), "error");
    }
    setTimeout(refresh, REFRESH_MS);
  };
  void refresh();
}

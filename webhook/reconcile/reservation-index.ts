import { parseAssignedIPs } from "../../ipam/annotations/assigned.js";
import { ANNO_ASSIGNED_IPS } from "../../ipam/annotations/keys.js";
import { podKey, type PodLike } from "../../ipam/kinds/pod.js";
import type { Cache } from "../../ipam/ports.js";
import type { StartedInformer } from "../../k8s/informer.js";

/**
 * Which Pod carries which reservation, from the Pods' assigned-ips annotations, so that the
 * collector of expired reservations can look for the Pod of a reservation before freeing it.
 */
export class ReservationIndex {
  private readonly byReservation = new Map<string, string>();

  constructor(private readonly pods: StartedInformer<PodLike>) {
    pods.on("add", (p) => this.index(p));
    pods.on("update", (p) => this.index(p));
    pods.on("delete", (p) => {
      const id = reservationOf(p);
      if (id && this.byReservation.get(id) === podKey(p)) this.byReservation.delete(id);
    });
    // What the cache already holds (events before these handlers are not replayed).
    for (const p of pods.list()) this.index(p);
  }

  /** The Pod (ns/name) that carries reservation `id`, if the cache holds it now. */
  podWith(id: string, pods: Cache<PodLike> = this.pods): string | undefined {
    const key = this.byReservation.get(id);
    if (!key) return undefined;
    const [ns = "", name = ""] = key.split("/", 2);
    return pods.get(name, ns) ? key : undefined;
  }

  private index(pod: PodLike): void {
    const id = reservationOf(pod);
    if (id) this.byReservation.set(id, podKey(pod));
  }
}

/** The reservation id of a Pod's annotation; undefined when it has none or it does not parse (the binder reports that). */
function reservationOf(pod: PodLike): string | undefined {
  const text = pod.metadata.annotations?.[ANNO_ASSIGNED_IPS];
  if (!text) return undefined;
  try {
    return parseAssignedIPs(text).reservation;
  } catch {
    return undefined;
  }
}

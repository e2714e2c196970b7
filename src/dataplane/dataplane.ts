/**
 * The dataplane as the dispatcher loop sees it: numbered ports (port P is the punt interface
 * `interfaces[P]` of the configuration), frames that arrive on a port, and frames sent on a port.
 * Three implementations: `RingDataplane` (live interfaces through punt6's packet ring),
 * `PcapDataplane` (live interfaces through libpcap) and `MemoryDataplane` (in memory, for tests).
 */

/**
 * Called once per received frame, which occupies `frame[off..off+len)` and is only valid during
 * the call (implementations reuse their buffers). `checksumTrusted`: the kernel vouched for the
 * frame's checksums (it verified them, or the sender left them to offload and they were never
 * filled in), so they are not to be verified.
 */
export type FrameReceiver = (
  port: number,
  frame: Uint8Array,
  off: number,
  len: number,
  checksumTrusted: boolean,
) => void;

/** Something that happened to a port, for the log. */
export type PortEvent =
  | { type: 'attached'; port: number; name: string; ifindex: number }
  /** The interface vanished or its capture failed; it is retried. */
  | { type: 'lost'; port: number; name: string; reason: string }
  /** An attach attempt failed (logged once per failure streak, not once per retry). */
  | { type: 'attach-failed'; port: number; name: string; reason: string }
  | { type: 'detached'; port: number; name: string }
  /** The link went down; the port stays attached and answers again once the link is up. */
  | { type: 'link-down'; port: number; name: string }
  | { type: 'send-failed'; port: number; name: string; reason: string };

export interface PortStatus {
  port: number;
  name: string;
  attached: boolean;
  /** Kernel interface index while attached, 0 otherwise. */
  ifindex: number;
  /** Frames handed to the receiver. */
  received: number;
  /** Frames sent. */
  sent: number;
  /** Frames that could not be sent (port detached, or the send failed). */
  sendErrors: number;
  /** Times the port was attached (1 after the first attach; more after the interface came back). */
  attaches: number;
  /**
   * The kernel's counters summed over every attach: frames the capture accepted, dropped for
   * want of buffer space, and (libpcap only) dropped by the interface; 0 where not available.
   */
  captureReceived: number;
  captureDropped: number;
  interfaceDropped: number;
  /**
   * Frames received with the kernel's checksum status (ring only): left unfilled by the sender's
   * transmit offload (TP_STATUS_CSUMNOTREADY), or already verified (TP_STATUS_CSUM_VALID). Their
   * checksums are not verified again.
   */
  checksumNotReady: number;
  checksumValid: number;
}

export interface Dataplane {
  /** Interface names, by port number. */
  readonly ports: readonly string[];
  /** Where received frames go (one receiver; a new call replaces the old one). */
  setReceiver(receiver: FrameReceiver): void;
  /** Sends `frame[off..off+len)` on a port; false when it could not be sent. */
  send(port: number, frame: Uint8Array, off: number, len: number): boolean;
  /**
   * Makes the port list `names`: ports whose name stays keep their capture (possibly under a
   * new number), new names are attached, names no longer listed are detached.
   */
  setPorts(names: readonly string[]): void;
  status(): PortStatus[];
  close(): Promise<void>;
}

export function emptyStatus(port: number, name: string): PortStatus {
  return {
    port,
    name,
    attached: false,
    ifindex: 0,
    received: 0,
    sent: 0,
    sendErrors: 0,
    attaches: 0,
    captureReceived: 0,
    captureDropped: 0,
    interfaceDropped: 0,
    checksumNotReady: 0,
    checksumValid: 0,
  };
}

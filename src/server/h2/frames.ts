// HTTP/2 frame layout and codes (RFC 9113 sections 4, 6, 7).

export const CONNECTION_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
export const FRAME_HEADER_BYTES = 9;

export enum FrameType {
  Data = 0x0,
  Headers = 0x1,
  Priority = 0x2,
  RstStream = 0x3,
  Settings = 0x4,
  PushPromise = 0x5,
  Ping = 0x6,
  GoAway = 0x7,
  WindowUpdate = 0x8,
  Continuation = 0x9,
}

export enum Flag {
  EndStream = 0x1,
  Ack = 0x1,
  EndHeaders = 0x4,
  Padded = 0x8,
  Priority = 0x20,
}

export enum ErrorCode {
  NoError = 0x0,
  ProtocolError = 0x1,
  InternalError = 0x2,
  FlowControlError = 0x3,
  SettingsTimeout = 0x4,
  StreamClosed = 0x5,
  FrameSizeError = 0x6,
  RefusedStream = 0x7,
  Cancel = 0x8,
  CompressionError = 0x9,
  EnhanceYourCalm = 0xb,
}

export enum Setting {
  HeaderTableSize = 0x1,
  EnablePush = 0x2,
  MaxConcurrentStreams = 0x3,
  InitialWindowSize = 0x4,
  MaxFrameSize = 0x5,
  MaxHeaderListSize = 0x6,
}

export const DEFAULT_WINDOW = 65_535;
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_WINDOW = 2 ** 31 - 1;

/** A frame: its 9-byte header followed by `payloadLength` bytes the caller appends. */
export function frameHeader(payloadLength: number, type: FrameType, flags: number, streamId: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  b[0] = payloadLength >>> 16;
  b[1] = (payloadLength >>> 8) & 0xff;
  b[2] = payloadLength & 0xff;
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId >>> 0, 5);
  return b;
}

export function settingsFrame(settings: readonly [Setting, number][]): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 6 * settings.length);
  frameHeader(6 * settings.length, FrameType.Settings, 0, 0).copy(b, 0);
  settings.forEach(([id, value], i) => {
    b.writeUInt16BE(id, FRAME_HEADER_BYTES + 6 * i);
    b.writeUInt32BE(value, FRAME_HEADER_BYTES + 6 * i + 2);
  });
  return b;
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const b = frameHeader(4, FrameType.WindowUpdate, 0, streamId);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  b.copy(out, 0);
  out.writeUInt32BE(increment, FRAME_HEADER_BYTES);
  return out;
}

export function rstStreamFrame(streamId: number, code: ErrorCode): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  frameHeader(4, FrameType.RstStream, 0, streamId).copy(out, 0);
  out.writeUInt32BE(code, FRAME_HEADER_BYTES);
  return out;
}

export function goAwayFrame(lastStreamId: number, code: ErrorCode, debug = ""): Buffer {
  const text = Buffer.from(debug, "utf8");
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 8 + text.length);
  frameHeader(8 + text.length, FrameType.GoAway, 0, 0).copy(out, 0);
  out.writeUInt32BE(lastStreamId, FRAME_HEADER_BYTES);
  out.writeUInt32BE(code, FRAME_HEADER_BYTES + 4);
  text.copy(out, FRAME_HEADER_BYTES + 8);
  return out;
}

/** HJ 212 codec: frames, CRC, packets, replies, split packets, SM4. Pure: no sockets, no environment. */
export { checkCrc, formatCrc, formatModbusSwapped, hj212Crc, modbusCrc } from './crc.js';
export type { CrcCheck, CrcVariant } from './crc.js';
export { FrameSplitter } from './splitter.js';
export { maskPasswords } from './mask.js';
export type { FrameSplitterOptions, SplitterEvent } from './splitter.js';
export { decodePacket, KNOWN_ST, peekHeader } from './decode.js';
export type { DecodeOptions, DecodeResult } from './decode.js';
export { IRREGULARITIES, irregularityMessage, isAccepted } from './irregularities.js';
export type { Irregularity, PolicyOptions, TolerancePolicy } from './irregularities.js';
export { fail, Hj212Error, ok } from './result.js';
export type { DecodeError, DecodeErrorCode, Hj212ErrorCode, Result, StructuralErrorCode } from './result.js';
export { formatCp, formatCpValue, parseCp } from './cp.js';
export type { CpField, CpItem, ParsedCp } from './cp.js';
export { interpretCp, NUMERIC_STATS, parseNumber, VERSION_BITS, versionOfFlag } from './packet.js';
export type { Measurement, NumericStat, Packet, PacketHeader, ProtocolVersion, TextField } from './packet.js';
export { FACTOR_CODES_2005_TO_2017, is2005FactorCode, mapFactorCode } from './factor-codes.js';
export { formatDataTime, formatQn, parseShanghaiTime } from './time.js';
export type { ShanghaiTime } from './time.js';
export {
  dataCp,
  encodePacket,
  encodePacketLine,
  encodeSegment,
  formatNumber,
  isHeaderValue,
  frameSegment,
  paramsCp,
} from './encoder.js';
export type { DataReading, EncodeOptions, PacketInput } from './encoder.js';
export * from './replies.js';
export {
  classifyPacket,
  decideReply,
  NOTIFICATION_CNS,
  qnRtnFor,
  REPLY_CNS,
  REQUEST_CNS,
  UPLOAD_CNS,
} from './ack.js';
export type { PacketKind, ReplyDecision } from './ack.js';
export { SplitPacketReassembler } from './reassembler.js';
export type { ExpiredGroup, ReassemblerOptions, ReassemblyResult } from './reassembler.js';
export { createSm4EcbCipher, decryptCpContent, encryptCpContent, isSm4Available } from './cipher.js';
export type { CipherTextEncoding, SegmentCipher, Sm4EcbOptions } from './cipher.js';

/**
 * What every answer starts from: the decoder that holds the frame being answered (its decode()
 * returned Ok before the answer is called) and the reply the answer writes, with the transmit
 * buffer and its word view (codecs/word-view.ts) at hand.
 */

import type { FrameDecoder } from '../../../codecs/frame.js';
import type { Reply } from '../reply.js';

export class Answer {
  protected readonly decoder: FrameDecoder;
  protected readonly reply: Reply;
  /** `reply.tx`: an answer writes its frame at offset 0. */
  protected readonly tx: Uint8Array;
  /** `reply.txWords`: word access to tx. */
  protected readonly txWords: DataView;

  constructor(decoder: FrameDecoder, reply: Reply) {
    this.decoder = decoder;
    this.reply = reply;
    this.tx = reply.tx;
    this.txWords = reply.txWords;
  }
}

// The synchronous frame layer under the envelope streams: cuts plaintext into
// secretstream frames and reassembles ciphertext frames from arbitrary chunkings, with
// memory bounded by one frame whatever the object size.
import { EnvelopeError } from './errors.js';
import { FRAME_CIPHERTEXT_BYTES, FRAME_OVERHEAD_BYTES, FRAME_PLAINTEXT_BYTES } from './envelope-format.js';
import type { DataKey } from './key-wrap.js';
import { streamInitPull, streamInitPush, streamPull, streamPush, TAG_FINAL, TAG_MESSAGE, wipe, STREAM_KEY_BYTES } from './sodium.js';

export type Emit = (bytes: Buffer) => void;

export class FrameSealer {
  readonly streamHeader: Buffer;
  readonly #state: Buffer;
  // A full frame is held back until more input arrives: only then is it known not to be the last.
  readonly #pending = Buffer.alloc(FRAME_PLAINTEXT_BYTES);
  #filled = 0;
  #ended = false;

  constructor(dataKey: DataKey) {
    if (dataKey.length !== STREAM_KEY_BYTES) throw new Error(`data key must be ${STREAM_KEY_BYTES} bytes`);
    const { state, header } = streamInitPush(dataKey.expose());
    this.#state = state;
    this.streamHeader = header;
  }

  write(chunk: Uint8Array, emit: Emit): void {
    if (this.#ended) throw new Error('FrameSealer: write after end');
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.#filled === FRAME_PLAINTEXT_BYTES) {
        emit(this.#seal(TAG_MESSAGE));
        this.#filled = 0;
      }
      const n = Math.min(FRAME_PLAINTEXT_BYTES - this.#filled, chunk.byteLength - offset);
      this.#pending.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
    }
  }

  /** Emits the FINAL frame (possibly empty) and wipes the stream state. */
  end(emit: Emit): void {
    if (this.#ended) throw new Error('FrameSealer: ended twice');
    this.#ended = true;
    emit(this.#seal(TAG_FINAL));
    this.destroy();
  }

  destroy(): void {
    wipe(this.#state);
    wipe(this.#pending);
  }

  #seal(tag: number): Buffer {
    const frame = Buffer.allocUnsafe(this.#filled + FRAME_OVERHEAD_BYTES);
    streamPush(this.#state, frame, this.#pending.subarray(0, this.#filled), tag);
    return frame;
  }
}

export class FrameOpener {
  readonly #state: Buffer;
  readonly #frame = Buffer.alloc(FRAME_CIPHERTEXT_BYTES);
  #filled = 0;
  #frameIndex = 0;
  #sawFinal = false;

  constructor(dataKey: DataKey, streamHeader: Uint8Array) {
    if (dataKey.length !== STREAM_KEY_BYTES) throw new Error(`data key must be ${STREAM_KEY_BYTES} bytes`);
    this.#state = streamInitPull(dataKey.expose(), streamHeader);
  }

  /** Emits the plaintext of every complete, authentic frame; throws EnvelopeError otherwise. */
  write(chunk: Uint8Array, emit: Emit): void {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.#sawFinal) {
        throw new EnvelopeError('trailing-data', 'encrypted object has data after its final frame');
      }
      const n = Math.min(FRAME_CIPHERTEXT_BYTES - this.#filled, chunk.byteLength - offset);
      this.#frame.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
      if (this.#filled === FRAME_CIPHERTEXT_BYTES) this.#open(emit);
    }
  }

  /** Checks that the object ended with its FINAL frame, opening a short last frame if any. */
  end(emit: Emit): void {
    if (this.#filled > 0) {
      if (this.#filled < FRAME_OVERHEAD_BYTES) {
        throw new EnvelopeError('truncated', `encrypted object is truncated inside frame ${this.#frameIndex}`);
      }
      this.#open(emit);
      if (!this.#sawFinal) {
        // Only full frames may carry MESSAGE: a short one means the stream was cut mid-frame.
        throw new EnvelopeError('truncated', `encrypted object is truncated inside frame ${this.#frameIndex - 1}`);
      }
    }
    if (!this.#sawFinal) {
      throw new EnvelopeError('truncated', `encrypted object is truncated: it ends after frame ${this.#frameIndex} without the final tag`);
    }
    this.destroy();
  }

  destroy(): void {
    wipe(this.#state);
  }

  #open(emit: Emit): void {
    const plain = Buffer.allocUnsafe(this.#filled - FRAME_OVERHEAD_BYTES);
    const tag = streamPull(this.#state, plain, this.#frame.subarray(0, this.#filled));
    const index = this.#frameIndex;
    this.#filled = 0;
    this.#frameIndex += 1;
    if (tag === null) {
      throw new EnvelopeError('tampered', `frame ${index} does not authenticate: the object was altered, truncated or spliced`);
    }
    if (tag === TAG_FINAL) this.#sawFinal = true;
    else if (tag !== TAG_MESSAGE) throw new EnvelopeError('tampered', `frame ${index} carries an unexpected tag`);
    emit(plain);
  }
}

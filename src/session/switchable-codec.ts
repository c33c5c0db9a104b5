import { createWireCodec, type CountingWireDecoder, type WeightCodecName } from '../fl/codec';
import type { Message } from '../fl/protocol';
import type { WireCodec, WireDecoderOptions } from '../fl/transport';

/**
 * A wire codec whose weight encoding can change once the session's choice is known (a client learns it from
 * the welcome). Decoding never depends on it: every weight blob names its own encoding.
 */
export class SwitchableWireCodec implements WireCodec {
  private current: WireCodec;

  constructor(private name: WeightCodecName = 'float32') {
    this.current = createWireCodec(name);
  }

  get codecName(): WeightCodecName {
    return this.name;
  }

  use(name: WeightCodecName): void {
    if (name === this.name) return;
    this.name = name;
    this.current = createWireCodec(name);
  }

  encode(message: Message): Uint8Array[] {
    return this.current.encode(message);
  }

  createDecoder(options?: WireDecoderOptions): CountingWireDecoder {
    return createWireCodec('float32').createDecoder(options);
  }
}

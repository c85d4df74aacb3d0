// Coalesces wrap and unwrap calls made in the same tick into one batch, so that a bulk
// import or a scan costs one key round trip per batch instead of one per object.
import type { WrappedKey } from '../crypto/envelope-format.js';
import { MAX_KEY_BATCH, type KeyService, type UnwrapRequest, type UnwrapResult, type WrapRequest } from '../crypto/key-service.js';

interface Pending<Req, Res> {
  req: Req;
  resolve: (r: Res) => void;
  reject: (e: unknown) => void;
}

class Batcher<Req, Res> {
  private queue: Pending<Req, Res>[] = [];
  private scheduled = false;
  constructor(private readonly run: (reqs: Req[]) => Promise<Res[]>) {}

  add(reqs: readonly Req[]): Promise<Res[]> {
    const out = reqs.map((req) => new Promise<Res>((resolve, reject) => this.queue.push({ req, resolve, reject })));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return Promise.all(out);
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_KEY_BATCH);
      this.run(batch.map((p) => p.req)).then(
        (results) => batch.forEach((p, i) => p.resolve(results[i]!)),
        (err) => batch.forEach((p) => p.reject(err)),
      );
    }
  }
}

export class BatchingKeyService implements KeyService {
  private readonly wraps: Batcher<WrapRequest, WrappedKey>;
  private readonly unwraps: Batcher<UnwrapRequest, UnwrapResult>;

  constructor(inner: KeyService) {
    this.wraps = new Batcher((reqs) => inner.wrap(reqs));
    this.unwraps = new Batcher((reqs) => inner.unwrap(reqs));
  }

  wrap(requests: readonly WrapRequest[]): Promise<WrappedKey[]> {
    return this.wraps.add(requests);
  }

  unwrap(requests: readonly UnwrapRequest[]): Promise<UnwrapResult[]> {
    return this.unwraps.add(requests);
  }
}

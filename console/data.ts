// The data view: keys by prefix (star system / star / planet), a page at a time; a record
// (JSON pretty-printed, anything else downloadable); upload of a file or a JSON record;
// delete. Every call is the public object API, so its errors are the API's own.
import { Api, ApiFailure, objectPath } from './api.js';
import { fill, h } from './dom.js';
import { bytes } from './format.js';
import type { ObjectItem } from './types.js';

const PAGE = 50;

export class DataView {
  readonly root = h('div', { class: 'data' });
  readonly #message = h('p', { id: 'data-message', class: 'message', role: 'status' });
  readonly #prefix = h('input', { id: 'prefix', type: 'text', placeholder: 'Sol/ — empty for every key', autocomplete: 'off', spellcheck: 'false' });
  readonly #list = h('div', { id: 'key-list' });
  readonly #record = h('div', { id: 'record' }, h('p', { class: 'muted' }, 'Pick a key to see its record.'));
  /** Cursors of the pages before the current one, for "previous". */
  #cursors: (string | null)[] = [];
  #cursor: string | null = null;
  #download: string | null = null;

  constructor(private readonly api: Api) {
    const listForm = h('form', { class: 'row', id: 'list-form' }, h('label', { for: 'prefix' }, 'Prefix'), this.#prefix, h('button', { type: 'submit' }, 'List'));
    listForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#cursors = [];
      void this.#load(null);
    });
    fill(this.root,
      h('section', { class: 'panel' }, h('h2', {}, 'Browse'), listForm, this.#message, this.#list),
      h('section', { class: 'panel' }, h('h2', {}, 'Record'), this.#record),
      this.#uploadPanel(),
    );
  }

  #say(text: string, error = false): void {
    this.#message.textContent = text;
    this.#message.className = `message ${error ? 'error' : 'ok'}`;
  }

  #fail(err: unknown): void {
    this.#say(err instanceof ApiFailure ? err.toString() : String(err), true);
  }

  async #load(cursor: string | null): Promise<void> {
    const params = new URLSearchParams({ prefix: this.#prefix.value, limit: String(PAGE) });
    if (cursor !== null) params.set('after', cursor);
    try {
      const page = await this.api.json<{ items: ObjectItem[]; next: string | null }>(`/v1/objects?${params}`);
      this.#cursor = cursor;
      this.#renderList(page.items, page.next);
      this.#say(`${page.items.length} key${page.items.length === 1 ? '' : 's'} under "${this.#prefix.value}"${page.next ? ' (more on the next page)' : ''}`);
    } catch (err) {
      this.#fail(err);
    }
  }

  #renderList(items: readonly ObjectItem[], next: string | null): void {
    const prev = h('button', { type: 'button', id: 'page-prev', disabled: this.#cursors.length === 0 }, '← Previous');
    prev.addEventListener('click', () => void this.#load(this.#cursors.pop() ?? null));
    const nextButton = h('button', { type: 'button', id: 'page-next', disabled: next === null }, 'Next →');
    nextButton.addEventListener('click', () => {
      this.#cursors.push(this.#cursor);
      void this.#load(next);
    });
    fill(this.#list,
      h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, 'key'), h('th', {}, 'size'), h('th', {}, 'type'), h('th', {}, 'version'))),
        h('tbody', {}, ...items.map((item) => {
          const open = h('button', { type: 'button', class: 'link', 'data-key': item.key }, item.key);
          open.addEventListener('click', () => void this.open(item.key));
          return h('tr', {}, h('td', {}, open), h('td', {}, bytes(item.size)), h('td', {}, item.contentType), h('td', {}, item.version));
        })),
      ),
      h('div', { class: 'row' }, prev, nextButton),
    );
  }

  async open(key: string): Promise<void> {
    // Cleared first, so no button of the previous record can be clicked meanwhile.
    fill(this.#record, h('p', { class: 'muted' }, `Loading ${key}…`));
    try {
      const res = await this.api.call(objectPath(key));
      const type = res.headers.get('content-type') ?? 'application/octet-stream';
      const version = (res.headers.get('etag') ?? '').replace(/"/g, '');
      const blob = await res.blob();
      if (this.#download !== null) URL.revokeObjectURL(this.#download);
      this.#download = URL.createObjectURL(blob);
      let body: HTMLElement;
      if (/^application\/(.+\+)?json\b/.test(type)) {
        const text = await blob.text();
        let pretty = text;
        try {
          pretty = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          // Stored as JSON but not valid JSON: show it as it is.
        }
        body = h('pre', { id: 'record-json', class: 'json' }, pretty);
      } else {
        body = h('p', { class: 'muted' }, `${type}: download it to see it.`);
      }
      const download = h('a', { href: this.#download, download: key.split('/').pop() ?? 'record', class: 'button', id: 'record-download' }, 'Download');
      const del = h('button', { type: 'button', id: 'record-delete', class: 'danger' }, 'Delete');
      del.addEventListener('click', () => {
        // A second click confirms: no modal dialogs.
        if (del.dataset['armed'] !== 'yes') {
          del.dataset['armed'] = 'yes';
          del.textContent = `Really delete ${key}?`;
          return;
        }
        void this.#delete(key, version);
      });
      fill(this.#record,
        h('dl', { class: 'facts' },
          h('dt', {}, 'key'), h('dd', { id: 'record-key', class: 'mono' }, key),
          h('dt', {}, 'version'), h('dd', {}, version),
          h('dt', {}, 'type'), h('dd', {}, type),
          h('dt', {}, 'size'), h('dd', {}, bytes(blob.size)),
        ),
        body,
        h('div', { class: 'row' }, download, del),
      );
    } catch (err) {
      fill(this.#record, h('p', { class: 'error' }, err instanceof ApiFailure ? err.toString() : String(err)));
    }
  }

  async #delete(key: string, version: string): Promise<void> {
    try {
      // If-Match: a record changed since it was shown is not deleted blindly (412).
      await this.api.call(objectPath(key), { method: 'DELETE', headers: version ? { 'if-match': `"${version}"` } : {} });
      fill(this.#record, h('p', { class: 'ok' }, `Deleted ${key}.`));
      await this.#load(this.#cursor);
      this.#say(`Deleted ${key}.`);
    } catch (err) {
      this.#fail(err);
    }
  }

  async #put(key: string, body: Blob, type: string): Promise<void> {
    try {
      const res = await this.api.json<{ key: string; version: number }>(objectPath(key), { method: 'PUT', headers: { 'content-type': type }, body });
      this.#say(`Stored ${res.key} (version ${res.version}).`);
      await this.open(res.key);
    } catch (err) {
      this.#fail(err);
    }
  }

  #uploadPanel(): HTMLElement {
    const key = h('input', { id: 'upload-key', type: 'text', placeholder: 'Sol/Sun/Earth', autocomplete: 'off', spellcheck: 'false' });
    const json = h('textarea', { id: 'upload-json', rows: 6, placeholder: '{"name": "Earth"}', spellcheck: 'false' });
    const file = h('input', { id: 'upload-file', type: 'file' });
    const storeJson = h('button', { type: 'button', id: 'upload-json-submit' }, 'Store JSON');
    const storeFile = h('button', { type: 'button', id: 'upload-file-submit' }, 'Upload file');
    storeJson.addEventListener('click', () => {
      try {
        JSON.parse(json.value);
      } catch (err) {
        this.#say(`not valid JSON: ${(err as Error).message}`, true);
        return;
      }
      void this.#put(key.value, new Blob([json.value]), 'application/json');
    });
    storeFile.addEventListener('click', () => {
      const f = file.files?.[0];
      if (!f) {
        this.#say('choose a file first', true);
        return;
      }
      void this.#put(key.value, f, f.type || 'application/octet-stream');
    });
    return h('section', { class: 'panel' },
      h('h2', {}, 'Upload'),
      h('div', { class: 'row' }, h('label', { for: 'upload-key' }, 'Key'), key),
      h('div', { class: 'row' }, json, storeJson),
      h('div', { class: 'row' }, file, storeFile),
    );
  }
}

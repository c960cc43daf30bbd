// A C string from the tracee: FieldNode.text is raw, `display` escaped; the
// text line prints the escaped form, JSON carries the raw string (JSON's own
// escapes keep control characters out of the line).

import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../src/decode/decoder.js';
import { renderJson } from '../../src/render/json.js';
import { TextRenderer } from '../../src/render/text.js';
import { header, PATH, record } from '../decode/helpers.js';
import { registry } from '../../decoders/index.js';

describe('C strings from the tracee', () => {
  const name = new Uint8Array([0x30, 0x1b, 0x5b, 0x32, 0x4a, 0x0a, 0x22, 0x5c, 0x07, 0x41]);
  const ev = createDecoder(header(), { registry: registry() }).decode(record('x86_64', { nr: 106, path: PATH.group, fd: 4, entry: name, ret: -19 }));

  it('the node holds the raw string and the escaped display', () => {
    if (ev.kind !== 'ioctl') throw new Error('kind');
    expect(ev.in?.text).toBe('0\x1b[2J\n"\\\x07A');
    expect(ev.in?.display).toBe('"0\\x1b[2J\\n\\"\\\\\\x07A"');
  });

  it('text escapes it, JSON carries it raw', () => {
    const line = new TextRenderer(null).render(ev);
    expect(line).toContain('VFIO_GROUP_GET_DEVICE_FD, "0\\x1b[2J\\n\\"\\\\\\x07A")');
    // eslint-disable-next-line no-control-regex
    expect(/[\x00-\x09\x0b-\x1f\x7f]/.test(line)).toBe(false);
    const json = renderJson(ev);
    // eslint-disable-next-line no-control-regex
    expect(/[\x00-\x1f\x7f]/.test(json.slice(0, -1))).toBe(false);
    expect(JSON.parse(json).in).toBe('0\x1b[2J\n"\\\x07A');
  });
});

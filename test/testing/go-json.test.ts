import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { goJsonKind, goJsonSyntaxError, goRawUrlBase64 } from "../../src/testing/go-json.ts";

describe("Go's encoding/json and base64 error texts", () => {
  it("names the first syntax error as Go's scanner does", () => {
    const cases: [string, string | undefined][] = [
      ['{"a": [1, 2.5e-3, true, false, null, "x\\u00e9\\n"]}', undefined],
      ["", "unexpected end of JSON input"],
      ["{", "unexpected end of JSON input"],
      ['{"metadata": {"name": "z"', "unexpected end of JSON input"],
      ["{not}", "invalid character 'n' looking for beginning of object key string"],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
      ["[1 2]", "invalid character '2' after array element"],
      ["tru3", "invalid character '3' in literal true (expecting 'e')"],
      ["not-a-token", "invalid character 'o' in literal null (expecting 'u')"],
      ["-x", "invalid character 'x' in numeric literal"],
      ["1.x", "invalid character 'x' after decimal point in numeric literal"],
      ["1ex", "invalid character 'x' in exponent of numeric literal"],
      ['"a\\qb"', "invalid character 'q' in string escape code"],
      ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
      ['"\u0001"', "invalid character '\\x01' in string literal"],
      ["{} x", "invalid character 'x' after top-level value"],
      ["01", "invalid character '1' after top-level value"],
      ["'", "invalid character '\\'' looking for beginning of value"],
    ];
    for (const [text, want] of cases) assert.equal(goJsonSyntaxError(text), want, JSON.stringify(text));
  });

  it("names JSON kinds as UnmarshalTypeError does", () => {
    assert.deepEqual([{}, [], "", 1, true, null].map(goJsonKind), ["object", "array", "string", "number", "bool", "null"]);
  });

  it("decodes unpadded base64url and reports the first bad byte", () => {
    assert.equal(new TextDecoder().decode(goRawUrlBase64("eyJ2IjoxfQ")), '{"v":1}');
    assert.throws(() => goRawUrlBase64("a!b"), /^Error: illegal base64 data at input byte 1$/);
    assert.throws(() => goRawUrlBase64("abcde"), /^Error: illegal base64 data at input byte 4$/);
    assert.throws(() => goRawUrlBase64("ab=="), /^Error: illegal base64 data at input byte 2$/);
  });
});

// Typeset TeX with a standard MathJax 3, as a notebook front end does, and report every error.
//
// Usage: node typeset_tex.js MATHJAX_DIR < formulas.json > errors.json
//
// MATHJAX_DIR is a MathJax 3 distribution (the folder holding node-main.js; the site's MathJax,
// shipped by the sphinx-mathjax-offline wheel, is one). Input: a JSON list of groups (one per
// notebook), each a list of {"tex": "...", "display": true|false}. Output: the same shape, with
// null for a formula MathJax typesets and the error message for one it does not.
//
// The configuration is MathJax's own default (TeX packages base, ams, newcommand, require,
// autoload, configmacros): none of the book's macros. The one change is that the noundefined
// package is left out, so that an unknown control sequence such as \mhat is reported as an
// error instead of being shown in red, which is what a student would see.
"use strict";

const path = require("path");

async function main() {
  const mathjaxDir = process.argv[2];
  if (!mathjaxDir) throw new Error("usage: node typeset_tex.js MATHJAX_DIR < formulas.json");
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const groups = JSON.parse(Buffer.concat(chunks).toString("utf8"));

  const loader = require(path.resolve(mathjaxDir, "node-main.js"));
  const MathJax = await loader.init({
    loader: { load: ["input/tex", "adaptors/liteDOM"] },
    tex: {
      packages: { "[-]": ["noundefined"] },
      formatError: (jax, err) => {
        throw err;
      },
    },
    startup: { typeset: false },
  });

  const results = [];
  for (const group of groups) {
    MathJax.texReset(); // each notebook is a page of its own: labels and tags start afresh
    const errors = [];
    for (const { tex, display } of group) {
      try {
        await MathJax.tex2mmlPromise(tex, { display: Boolean(display) });
        errors.push(null);
      } catch (err) {
        errors.push(String((err && err.message) || err));
      }
    }
    results.push(errors);
  }
  process.stdout.write(JSON.stringify({ version: MathJax.version, errors: results }));
}

main().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + "\n");
  process.exit(2);
});

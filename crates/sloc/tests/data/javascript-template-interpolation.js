// 12 lines 8 code 4 comments 0 blanks
const a = `outer ${cond ? `inner ${x}` : "}"} /* not a comment */`;
// a comment after nested template literals
const b = `${
  // a comment inside the interpolation
  value /* and a block comment */
}`;
const c = `${ {k: 1}.k } and \${ an escaped, literal one`; /* a real
comment */
const d = `${ `/*` }`;
const e = 1;
const f = 2;

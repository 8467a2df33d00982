// 12 lines 8 code 4 comments 0 blanks
let a: unknown = `outer ${cond ? `inner ${x}` : "}"} /* not a comment */`;
// a comment after nested template literals
let b: unknown = `${
  // a comment inside the interpolation
  value /* and a block comment */
}`;
let c: unknown = `${ {k: 1}.k } and \${ an escaped, literal one`; /* a real
comment */
let d: unknown = `${ `/*` }`;
let e: unknown = 1;
let f: unknown = 2;

// 18 lines 10 code 7 comments 1 blanks
// Regex literals hold quotes and comment markers that open nothing.
const quote = /["']/g;
// a comment after a regex
const tick = /`/;
// a backtick in a regex opens no template literal
const star = /[/*]/;
// a slash-star in a class opens no block comment
const url = /https?:\/\/[^"]*/;
const half = total / 2; const third = half / 3; // division

function f(s) {
  return /'/.test(s);
}
/* a block comment */
const arrow = (s) => s.replace(/"/g, "'");
const ratio = (a + b) / 2 /* a real comment */;
// last

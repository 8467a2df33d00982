// 10 lines 6 code 3 comments 1 blanks
const tpl = `template
// not a comment ${1 + 1}
`;
/* block */ 
const s = '/* not a comment';
const d = "it's // fine";

/** doc */
module.exports = { tpl, s, d };

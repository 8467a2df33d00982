// 5 lines 3 code 2 comments 0 blanks
const a = "\\"; /* closed */
const b = `\\` + '\\'; // c
const c = `\${"/*"} \\`;
/* end */

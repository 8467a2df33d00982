// 4 lines 2 code 2 comments 0 blanks
var s = '${m('/*')} done';
// a comment
var t = "${x}";

// 4 lines 2 code 2 comments 0 blanks
var s = $"{{literal}} {Get("/*")} done";
// a comment
var t = $@"{x}";

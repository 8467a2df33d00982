// 4 lines 2 code 2 comments 0 blanks
val s = s"${m("/*")} done"
// a comment
val t = s"""${x}"""

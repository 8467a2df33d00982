// 4 lines 2 code 2 comments 0 blanks
let s = "sum: \(f("/*")) done"
// a comment
let t = "\(a) // not a comment"

// 6 lines 3 code 3 comments 0 blanks
val s = "total: ${items.map { "${it.name}: /* no */" }.joinToString()}"
// a comment
val t = """${
    // a comment in the interpolation of a raw string
    x }"""

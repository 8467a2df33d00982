// 8 lines 5 code 3 comments 0 blanks
/* outer /* nested */ still outer */
val raw = """
    // raw, not a comment
"""
val s = "a \" b" // trailing
/* one */
fun main() = println(raw + s)

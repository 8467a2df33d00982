// 10 lines 5 code 4 comments 1 blanks
/* outer /* nested */ still comment */
object Fixture {
  val raw = """a raw string with \ and // no comment
  still raw """

  /* multi
   */
  val s = "a \" b"
}

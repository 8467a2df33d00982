// 15 lines 8 code 6 comments 1 blanks
/**
 * Javadoc.
 */
class Fixture {
    String block = """
        a text block with // no comment
        and "quotes" and /* nothing */
        """;

    // a comment
    char quote = '"'; /* trailing */
    String s = "\"/*\""; 
    /* one-line */
}

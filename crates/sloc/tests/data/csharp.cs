// 9 lines 6 code 2 comments 1 blanks
class Fixture {
    string path = @"C:\dir\"; // verbatim: the backslash does not escape
    string multi = @"first line
// inside the verbatim string";
    /* block */

    char c = '"';
}

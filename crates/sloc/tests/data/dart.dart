// 7 lines 5 code 2 comments 0 blanks
/* outer /* nested */ */
var s = '''
// not a comment
''';
var d = "it's";
void main() {}

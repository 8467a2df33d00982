// 5 lines 3 code 1 comments 1 blanks
#import <Foundation/Foundation.h>

NSString *s = @"// not a comment";
int main(void) { return 0; }

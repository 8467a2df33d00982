// 5 lines 3 code 1 comments 1 blanks
#import <Foundation/Foundation.h>

@interface Demo : NSObject
@end

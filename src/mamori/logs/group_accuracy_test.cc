#include "mamori/logs/group_accuracy.h"

#include <gtest/gtest.h>

namespace mamori::logs {
namespace {

TEST(GroupAccuracy, HandMadeExample) {
  // True groups: A={0,1,2}, B={3,4}, C={5}. Predicted: {0,1,2} exact, B split
  // into {3} and {4}, C merged with line 4 -> only A's three lines count.
  std::vector<std::string> truth = {"A", "A", "A", "B", "B", "C"};
  std::vector<std::uint32_t> predicted = {7, 7, 7, 1, 2, 2};
  auto ga = ComputeGroupAccuracy(predicted, truth);
  ASSERT_TRUE(ga.ok());
  EXPECT_EQ(ga->lines, 6u);
  EXPECT_EQ(ga->correct_lines, 3u);
  EXPECT_DOUBLE_EQ(ga->accuracy, 0.5);
  EXPECT_EQ(ga->predicted_groups, 3u);
  EXPECT_EQ(ga->true_groups, 3u);
}

TEST(GroupAccuracy, PerfectAndLabelsAreOpaque) {
  auto ga = ComputeGroupAccuracy({5, 5, 9}, {"x", "x", "y"});
  ASSERT_TRUE(ga.ok());
  EXPECT_DOUBLE_EQ(ga->accuracy, 1.0);
}

TEST(GroupAccuracy, OneBigPredictedGroupIsWrongForAll) {
  auto ga = ComputeGroupAccuracy({1, 1, 1, 1}, {"a", "a", "b", "b"});
  ASSERT_TRUE(ga.ok());
  EXPECT_EQ(ga->correct_lines, 0u);
}

TEST(GroupAccuracy, SizeMismatchIsAnError) {
  auto ga = ComputeGroupAccuracy({1}, {"a", "b"});
  ASSERT_FALSE(ga.ok());
  EXPECT_NE(ga.error().message().find("1 predicted labels for 2 true labels"), std::string::npos);
  auto empty = ComputeGroupAccuracy({}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->accuracy, 0.0);
}

}  // namespace
}  // namespace mamori::logs

#include "cli/table.h"

#include <algorithm>
#include <sstream>

#include "common/check.h"

namespace sluice::cli {
namespace {

// Display width: counts UTF-8 code points, not bytes, so names with accents still align.
size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

}  // namespace

Table::Table(std::vector<TableColumn> columns, std::string indent)
    : columns_(std::move(columns)), indent_(std::move(indent)) {}

void Table::AddRow(std::vector<std::string> cells) {
  SLUICE_CHECK(cells.size() <= columns_.size(), "more cells than columns");
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void Table::Render(std::ostream& out) const {
  std::vector<size_t> widths(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = DisplayWidth(columns_[c].header);
    for (const auto& row : rows_) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  auto render_line = [&](auto cell_at) {
    std::string line = indent_;
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cell_at(c);
      const size_t pad = widths[c] - DisplayWidth(cell);
      const bool last = c + 1 == columns_.size();
      if (c > 0) line += "  ";
      if (columns_[c].align == Align::kRight) {
        line.append(pad, ' ');
        line += cell;
      } else {
        line += cell;
        if (!last) line.append(pad, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  render_line([&](size_t c) -> const std::string& { return columns_[c].header; });
  for (const auto& row : rows_) {
    render_line([&](size_t c) -> const std::string& { return row[c]; });
  }
}

std::string Table::ToString() const {
  std::ostringstream out;
  Render(out);
  return out.str();
}

}  // namespace sluice::cli

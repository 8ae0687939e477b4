// Table: a column-aligned text table for the CLI's `--output table` mode. Columns are
// separated by two spaces; every column is padded to its widest cell (the last column is not
// padded, so lines carry no trailing spaces); right-aligned columns suit numbers.
// Build it on one thread, then Render.
//
//   Table t({"ID", "NAME", {"RECORDS", Align::kRight}});
//   t.AddRow({"1", "txns", "1200"});
//   t.Render(std::cout);
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace sluice::cli {

enum class Align { kLeft, kRight };

struct TableColumn {
  TableColumn(const char* header, Align align = Align::kLeft) : header(header), align(align) {}
  TableColumn(std::string header, Align align = Align::kLeft)
      : header(std::move(header)), align(align) {}
  std::string header;
  Align align;
};

class Table {
 public:
  explicit Table(std::vector<TableColumn> columns, std::string indent = "");

  // Missing trailing cells render empty; extra cells are a programmer error.
  void AddRow(std::vector<std::string> cells);
  size_t num_rows() const { return rows_.size(); }

  void Render(std::ostream& out) const;
  std::string ToString() const;

 private:
  std::vector<TableColumn> columns_;
  std::string indent_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace sluice::cli

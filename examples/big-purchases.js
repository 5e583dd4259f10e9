// Example task: does this user have a purchase over 100? Runs once per user.
for (const p of tables.purchases) {
  if (p.amount > 100) {
    report_property('purchase', 'more_than_100');
  }
}
report_property('purchases', tables.purchases.length);
